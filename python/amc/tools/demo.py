# SPDX-License-Identifier: GPL-3.0-or-later
"""The main job on a built-in default (amc demo).

sensor_demo: the headless sensor flowgraph on built-in signals, six modulations in
turn through the RML2016 channel -> vectorizer -> classifier -> decision, reported as
decisions (and JSON lines). run/report (amc demo --vectors): the vectorizer alone on
RRC-shaped QPSK in noise, printing vectors.
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import analog, blocks, digital, filter, gr
from gnuradio.filter import firdes

from ..amc_python import decision, vectorizer
from ..blocks.classifier import classifier
from ..blocks.json_sink import json_sink
from ..blocks.modulation_source import modulation_source
from ..datasets.generate import esn0_noise_std, rml2016_channel
from ..runtime import bundle as bundles
from ..runtime.features import VectorSpec

QPSK_POINTS = [complex(i, q) / np.sqrt(2) for i, q in ((1, 1), (-1, 1), (-1, -1), (1, -1))]


class qpsk_source(gr.hier_block2):
    """Root-raised-cosine QPSK (roll-off 0.35) at `sps` samples per symbol, unit
    average power, plus complex Gaussian noise at the given Es/N0 in dB."""

    def __init__(self, sps: int = 8, esn0_db: float = 20.0, seed: int = 1):
        gr.hier_block2.__init__(
            self,
            "qpsk_source",
            gr.io_signature(0, 0, 0),
            gr.io_signature(1, 1, gr.sizeof_gr_complex),
        )
        symbols = analog.random_uniform_source_b(0, len(QPSK_POINTS), seed)
        mapper = digital.chunks_to_symbols_bc(QPSK_POINTS, 1)
        # Unit-energy RRC taps, so that one symbol carries energy 1 (Es = 1)
        # and each sample carries 1/sps on average.
        taps = np.array(firdes.root_raised_cosine(1.0, sps, 1.0, 0.35, 11 * sps + 1))
        taps /= np.sqrt(np.sum(taps**2))
        shaper = filter.interp_fir_filter_ccf(sps, taps.tolist())
        # With Es = 1 and complex noise of variance N0 per sample, Es/N0 = 1 / N0
        # (the per-sample SNR is then Es/N0 / sps).
        noise_power = 10 ** (-esn0_db / 10)
        noise = analog.noise_source_c(analog.GR_GAUSSIAN, float(np.sqrt(noise_power)), seed + 1)
        add = blocks.add_cc()
        self.connect(symbols, mapper, shaper, (add, 0))
        self.connect(noise, (add, 1))
        self.connect(add, self)


class vectorize_demo(gr.top_block):
    """qpsk_source -> head -> vectorizer -> vector sink."""

    def __init__(self, spec: VectorSpec, hop: int, samples: int, sps: int, esn0_db: float):
        gr.top_block.__init__(self, "gr-amc vectorizer demo", catch_exceptions=False)
        self.source = qpsk_source(sps, esn0_db)
        self.head = blocks.head(gr.sizeof_gr_complex, samples)
        self.vectorizer = vectorizer(
            spec.window,
            hop,
            spec.representation,
            spec.layout,
            spec.normalization,
            spec.fft_size,
            spec.fft_avg,
        )
        self.sink = blocks.vector_sink_f(self.vectorizer.vlen())
        self.connect(self.source, self.head, self.vectorizer, self.sink)


def run(
    spec: VectorSpec, hop: int | None = None, samples: int = 1 << 16, sps: int = 8, esn0_db: float = 20.0
) -> dict:
    """Run the demo flowgraph; returns the vectors, their tags and the counters."""
    tb = vectorize_demo(spec, spec.window if hop is None else hop, samples, sps, esn0_db)
    tb.run()
    vectors = np.array(tb.sink.data(), dtype=np.float32).reshape(-1, *spec.shape)
    tags = [(t.offset, pmt.symbol_to_string(t.key), pmt.to_python(t.value)) for t in tb.sink.tags()]
    starts = [v for _, k, v in tags if k == "amc_window"]
    return {
        "vectors": vectors,
        "starts": starts,
        "tags": tags,
        "windows_out": tb.vectorizer.windows_out(),
        "nonfinite": tb.vectorizer.nonfinite_windows(),
        "silent": tb.vectorizer.silent_windows(),
    }


def report(spec: VectorSpec, hop: int, samples: int, result: dict, show: int = 5) -> str:
    """Human-readable summary of a demo run."""
    v = result["vectors"]
    lines = [
        f"gr-amc vectorizer: {samples} samples of QPSK (8 sps) -> {len(v)} vectors of shape "
        f"{spec.shape} ({spec.representation}, {spec.layout}, normalization {spec.normalization}, "
        f"window {spec.window}, hop {hop})",
        f"counters: windows_out={result['windows_out']} nonfinite={result['nonfinite']} "
        f"silent={result['silent']}",
    ]
    flat = v.reshape(len(v), -1)
    if len(v):
        lines.append(
            f"per-vector sum of squares: mean {np.mean(np.sum(flat**2, axis=1)):.4f}, "
            f"values in [{flat.min():.4f}, {flat.max():.4f}]"
        )
    lines.append(f"{'vector':>6} {'start':>8}  first values")
    for i in range(min(show, len(v))):
        start = result["starts"][i] if i < len(result["starts"]) else "?"
        head = " ".join(f"{x:+.4f}" for x in flat[i, :6])
        lines.append(f"{i:>6} {start:>8}  {head} ...")
    return "\n".join(lines)


# --------------------------------------------------------------------------- decisions

DEMO_SEQUENCE = ("QPSK", "BPSK", "QAM16", "GFSK", "WBFM", "8PSK")


class sensor_demo(gr.top_block):
    """The headless sensor flowgraph on built-in signals: the modulations of `sequence`
    in turn (`segment` samples each at the model's samples per symbol, Es/N0 `esn0_db`,
    the RML2016 channel) -> vectorizer -> classifier -> decision -> messages (also as
    JSON lines to `json_path`, "-" for stdout). `model`: a bundle name or directory."""

    def __init__(
        self, model="default", sequence=DEMO_SEQUENCE, segment=1 << 15, esn0_db=20.0, json_path=None
    ):
        gr.top_block.__init__(self, "gr-amc sensor demo", catch_exceptions=False)

        b = bundles.load(model)
        i, n = b.meta["input"], b.lengths[0]
        sps = b.sps
        self.sequence, self.segment = list(sequence), segment
        mux = blocks.stream_mux(gr.sizeof_gr_complex, [segment] * len(sequence))
        for k, m in enumerate(sequence):
            src = modulation_source(m, sps, seed=k + 1)
            chan = rml2016_channel(segment, esn0_noise_std(esn0_db, sps), k + 1)
            self.connect(src, chan, (mux, k))
        self.head = blocks.head(gr.sizeof_gr_complex, segment * len(sequence))
        self.vectorizer = vectorizer(n, n, i["representation"], i["layout"], i["normalization"], 0, 1, True)
        self.classifier = classifier(b.path, n, i["representation"], i["layout"], i["normalization"])
        # K as amc.classify's: 16 windows ride out the channel's fades (K = 8 flipped QPSK to 8PSK)
        self.decision = decision(b.classes, k=16, max_rate=0.0)
        self.messages = blocks.message_debug()
        self.connect(mux, self.head, self.vectorizer, self.classifier, self.decision)
        self.connect(self.decision, blocks.null_sink(gr.sizeof_float * len(b.classes)))
        self.msg_connect(self.decision, "decision", self.messages, "store")
        if json_path:
            self.json = json_sink(json_path, append=False)
            self.msg_connect(self.decision, "decision", self.json, "in")
        self.bundle = b

    def decisions(self) -> list[dict]:
        out = []
        for k in range(self.messages.num_messages()):
            d = pmt.to_python(self.messages.get_message(k))
            d["truth"] = self.sequence[min(int(d["offset"]) // self.segment, len(self.sequence) - 1)]
            out.append(d)
        return out


def sensor_report(tb: sensor_demo) -> str:
    b = tb.bundle
    lines = [
        f"gr-amc sensor demo: model {b.id} ({b.name}, {b.path})",
        f"signal: {' -> '.join(tb.sequence)}, {tb.segment} samples each, RML2016-style channel",
        f"{'offset':>9}  {'truth':<7} {'decision':<9} confidence",
    ]
    for d in tb.decisions():
        lines.append(f"{d['offset']:>9}  {d['truth']:<7} {d['label']:<9} {d['confidence']:.2f}")
    c, dec = tb.classifier, tb.decision
    lines.append(
        f"windows {c.windows()}: classified {c.classified()}, nonfinite {c.nonfinite()}, "
        f"silent {c.silent()}, dropped {c.dropped()}; decision changes {dec.decisions()}"
    )
    return "\n".join(lines)
