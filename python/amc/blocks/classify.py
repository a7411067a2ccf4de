# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.classify: the whole receive chain of one signal in one block, configured from
a bundle (GRC: AMC Classify); amc.device_rate: one sample rate for source and chain."""

from __future__ import annotations

import re

import numpy as np
from gnuradio import gr

from ..amc_python import decision, normalizer, signal_estimator, vectorizer
from ..runtime import bundle as bundles
from .classifier import classifier

DEFAULT_RATE = 2e6


class classify(gr.hier_block2):
    """Complex samples in; the modulation out, as smoothed probabilities, stream tags
    (amc_decision where the decision changes) and messages (port decision).

    Inside: amc.normalizer (carrier to the centre, channel filter, resampler to the
    samples per symbol the bundle was trained on) -> amc.vectorizer -> amc.classifier
    -> amc.decision, every parameter that must agree with the model read from the
    bundle. With symbol_rate 0 the signal is found blindly: amc.signal_estimator in
    front re-estimates symbol rate and carrier every second and the normaliser follows
    (no signal: nothing is classified). The windows within the filters' transient
    after a start or a new setting are flagged "settling" and not classified.

    model: a bundle directory, a shipped name or "default".
    samp_rate: the input's sample rate (Hz); symbol_rate: the signal's (Hz; 0: blind).
    cfo: the signal's carrier offset (Hz) with a given symbol_rate.
    k, threshold, hysteresis, report_every, max_rate: the decision's (amc.decision).
    threads, max_backlog: the classifier's (amc.classifier).
    samples_out: a second output with the samples the model sees (for a constellation).

    Outputs: smoothed probabilities (one vector per window); with samples_out, the
    normalised complex stream. Messages: decision (amc.decision's), classification
    (amc.classifier's, one per window), estimate (amc.signal_estimator's; none with a
    given symbol_rate).
    """

    def __init__(
        self,
        model: str = "default",
        samp_rate: float = DEFAULT_RATE,
        symbol_rate: float = 0.0,
        k: int = 16,
        threshold: float = 0.5,
        hysteresis: float = 0.1,
        report_every: int = 0,
        max_rate: float = 10.0,
        threads: int = 1,
        max_backlog: int = 2048,
        samples_out: bool = False,
        cfo: float = 0.0,
    ):
        for name, value in (("samp_rate", samp_rate), ("symbol_rate", symbol_rate)):
            if not bundles.is_rate(value):
                raise ValueError(f"{name} {value!r} must be a finite number >= 0")
        if not samp_rate > 0:
            raise ValueError(f"samp_rate {samp_rate!r} must be > 0")
        b = bundles.load(model)
        n_cls = len(b.classes)
        outputs = [gr.sizeof_float * n_cls] + ([gr.sizeof_gr_complex] if samples_out else [])
        gr.hier_block2.__init__(
            self,
            "amc_classify",
            gr.io_signature(1, 1, gr.sizeof_gr_complex),
            gr.io_signature.makev(len(outputs), len(outputs), outputs),
        )
        self.bundle, self.classes = b, list(b.classes)
        window, i = b.lengths[0], b.meta["input"]
        self.normalizer = normalizer(samp_rate, b.sps, symbol_rate, cfo)  # its errors name the parameter
        chain = [self.normalizer]
        self.estimator = None
        if not symbol_rate:
            self.estimator = signal_estimator(samp_rate)
            chain.insert(0, self.estimator)
            self.msg_connect(self.estimator, "estimate", self.normalizer, "estimate")
        self.vectorizer = vectorizer(
            window, window, i["representation"], i["layout"], i["normalization"], 0, 1, True
        )
        # the normaliser's amc_retune tags bring the settle and the rate (blind: known later)
        self.classifier = classifier(
            b.path, window, i["representation"], i["layout"], i["normalization"], "probabilities",
            "litert", threads, max_backlog, b.sps * symbol_rate, False, 0,
        )  # fmt: skip
        self.decision = decision(
            self.classes, k=k, threshold=threshold, hysteresis=hysteresis, report_every=report_every,
            max_rate=max_rate,
        )  # fmt: skip
        self.connect(self, *chain, self.vectorizer, self.classifier, self.decision, self)
        if samples_out:
            self.connect(self.normalizer, (self, 1))
        # estimate is there with a given symbol rate too (silent), so a flowgraph's
        # connections hold whichever way it is run
        ports = [
            ("decision", self.decision),
            ("classification", self.classifier),
            ("estimate", self.estimator),
        ]
        for port, block in ports:
            self.message_port_register_hier_out(port)
            if block is not None:
                self.msg_connect(block, port, self, port)

    # what a GRC callback or a GUI reads and sets while the flowgraph runs
    def label(self) -> str:
        return self.decision.label()

    def confidence(self) -> float:
        return self.decision.confidence()

    def set_threshold(self, threshold: float) -> None:
        self.decision.set_threshold(threshold)

    def set_hysteresis(self, hysteresis: float) -> None:
        self.decision.set_hysteresis(hysteresis)

    def set_k(self, k: int) -> None:
        self.decision.set_k(k)


def device_rate(device_args: str, samp_rate: float = 0.0) -> float:
    """The one sample rate of an osmosdr/Soapy source and the chain behind it: samp_rate
    when given (> 0), else the rate= of device_args (a file= replay says its rate there),
    else 2 MS/s. Both given and different is an error: the device would run at one and
    the chain assume the other."""
    if not bundles.is_rate(samp_rate):
        raise ValueError(f"samp_rate {samp_rate!r} must be a finite number >= 0 (0: from the device)")
    found = re.search(r"(?:^|,)\s*rate\s*=\s*([^,]+)", device_args or "")
    args_rate = None
    if found:
        try:
            args_rate = float(found.group(1))
        except ValueError:
            raise ValueError(f"device_args rate={found.group(1)!r} is not a number") from None
        if not (np.isfinite(args_rate) and args_rate > 0):
            raise ValueError(f"device_args rate={found.group(1)!r} must be > 0")
    if samp_rate and args_rate and samp_rate != args_rate:
        raise ValueError(
            f"samp_rate {samp_rate:g} and device_args rate={args_rate:g} differ: give one of them "
            "(samp_rate 0 takes the device's)"
        )
    return float(samp_rate or args_rate or DEFAULT_RATE)
