# SPDX-License-Identifier: GPL-3.0-or-later
"""The receive chain's blocks run over arrays, not streams: what `amc classify`, `amc scan` and
amc.scanner's lanes do with a recording or a span of samples, through the same C++ blocks as the
live flowgraphs (each function runs a small flowgraph to its end).

- resample: amc.normalizer (carrier to 0, channel filter, arbitrary resampling)
- blind: amc.signal_estimator's estimate, then resample to the model's samples per symbol
- decisions: amc.decision over a sequence of class probabilities; summary: their shares
- detect: amc.channel_detector's signals of a wideband stream
- channel: one signal of a wideband stream cut out (GNU Radio's freq_xlating_fir_filter_ccc)
- classify_signal: blind front end, model and decision on one signal's samples
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import blocks, gr
from gnuradio import filter as grfilter
from gnuradio.filter import firdes

from ..amc_python import channel_detector, decision, normalizer
from ..runtime import estimate
from .classifier import classify_windows


def resample(samples, ratio: float, cfo: float = 0.0, out_sps: float = 8.0, constant_envelope: bool = False):
    """The stream shifted by -cfo (cycles/sample), filtered to its band (wider for FSK-like
    signals) and at `ratio` times its rate (ratio / out_sps: its symbol rate), by
    amc.normalizer: the live flowgraphs' front end."""
    tb = gr.top_block()
    src = blocks.vector_source_c(np.ascontiguousarray(samples, np.complex64))  # no Python list
    norm = normalizer(1.0, out_sps, ratio / out_sps, cfo, constant_envelope=constant_envelope)
    sink = blocks.vector_sink_c()
    tb.connect(src, norm, sink)
    tb.run()
    return np.array(sink.data(), np.complex64)


def blind(samples: np.ndarray, out_sps: float):
    """(estimate, samples, ratio): the signal's carrier offset and symbol rate found blindly,
    then centred and resampled to out_sps samples per symbol (analog signals and nothing
    are left as they are, ratio 1)."""
    found = estimate.estimate(samples)
    if not found.symbol_rate:
        return found, samples, 1.0
    ratio = out_sps * found.symbol_rate
    return found, resample(samples, ratio, found.cfo, out_sps, found.kind == "constant_envelope"), ratio


THRESHOLD, HYSTERESIS = 0.5, 0.1  # the decision's, as in the live flowgraphs


def decisions(probs, classes, k: int):
    """Each window's decision and its smoothed confidence, from amc.decision itself (the
    live flowgraphs' block): no decision before k windows; the all-zero rows of windows
    not classified are gaps to it."""
    n = len(probs)
    tb = gr.top_block()
    src = blocks.vector_source_f(np.asarray(probs, np.float32).ravel().tolist(), False, len(classes))
    dec = decision(list(classes), k=k, threshold=THRESHOLD, hysteresis=HYSTERESIS, max_rate=0.0)
    sink = blocks.vector_sink_f(len(classes))
    tb.connect(src, dec, sink)
    tb.run()
    smoothed = np.array(sink.data(), np.float32).reshape(n, len(classes))
    changes = sorted(
        (t.offset, pmt.to_python(t.value))
        for t in sink.tags()
        if pmt.symbol_to_string(t.key) == "amc_decision"
    )
    # the state of window i: the last change at or before it ("unknown" before the first)
    labels = ["unknown"] + [d["label"] for _, d in changes]
    indices = np.array([-1] + [d["index"] for _, d in changes])
    state = np.searchsorted([o for o, _ in changes], np.arange(n), side="right")
    index = indices[state]
    conf = np.where(index >= 0, smoothed[np.arange(n), np.maximum(index, 0)], 0.0)
    return [labels[s] for s in state], conf.tolist()


def summary(labels: list[str]) -> dict:
    names, counts = np.unique(labels, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return {str(names[i]): round(float(counts[i]) / len(labels), 4) for i in order} if labels else {}


# a signal is cut out at about this many samples per Hz of its (-3 dB) bandwidth: 2.5-20
# samples per symbol for the blind estimator whatever the roll-off
CHANNEL_OVERSAMPLE = 4.0


def detect(samples: np.ndarray, rate: float, center: float, fft_size: int, threshold_db: float) -> list[dict]:
    """The signals amc.channel_detector finds in the recording, one dict each (its
    messages' fields), in the order they started."""
    tb = gr.top_block()
    det = channel_detector(rate, center, fft_size, 8, threshold_db)
    store = blocks.message_debug()
    tb.connect(blocks.vector_source_c(samples, False), det)
    tb.msg_connect(det, "signals", store, "store")
    tb.run()
    ended = {}
    for i in range(store.num_messages()):
        m = pmt.to_python(store.get_message(i))
        if m.get("event") == "end":
            ended[m["id"]] = m
    for m in pmt.to_python(det.tracked()):  # those the stream ended with
        ended.setdefault(m["id"], m)
    return sorted(ended.values(), key=lambda m: (m["first_sample"], m["id"]))


def decimation(rate: float, bw_3db: float, occupied: float) -> int:
    """What channel() decimates a signal of this bandwidth by."""
    return max(1, int(rate / (CHANNEL_OVERSAMPLE * max(bw_3db, occupied / 1.5))))


def channel(samples: np.ndarray, rate: float, offset_hz: float, bw_3db: float, occupied: float):
    """One signal cut out of the band: shifted to 0 Hz, filtered to 0.8 of its bandwidth (or of
    its occupied width, where more) either side and decimated to about CHANNEL_OVERSAMPLE
    samples per Hz of its bandwidth (GNU Radio's freq_xlating_fir_filter_ccc). Its bandwidth:
    the -3 dB one, or two thirds of what is occupied over the threshold where that is more
    (peaked spectra such as GFSK's, whose skirts carry its symbol rate). (samples, their rate)."""
    bandwidth = max(bw_3db, occupied / 1.5)
    decim = decimation(rate, bw_3db, occupied)
    # the pass band reaches 0.8 of the -3 dB width or of all that is occupied, whichever is more:
    # FSK's skirts (below its -3 dB width) carry its symbol rate, and the blind front end
    # filters to the signal's own band afterwards; cutting at 0.8 of the -3 dB width alone left
    # GFSK without a rate and CPFSK narrowed into GFSK (docs/benchmarks.md, issue 19)
    cutoff = min(0.8 * max(bw_3db, occupied), 0.45 * rate / decim)
    taps = firdes.low_pass(1.0, rate, cutoff, 0.4 * bandwidth)
    tb = gr.top_block()
    xlate = grfilter.freq_xlating_fir_filter_ccc(decim, taps, offset_hz, rate)
    sink = blocks.vector_sink_c()
    tb.connect(blocks.vector_source_c(samples, False), xlate, sink)
    tb.run()
    # the filter's delay: its first len(taps) / decim outputs are its transient
    return np.array(sink.data(), np.complex64)[len(taps) // decim :], rate / decim


def classify_signal(b, samples: np.ndarray, k: int, threads: int) -> dict:
    """The blind front end and the model on one signal's samples: its estimate, the decision
    it holds longest (not unknown) and the share of windows that decision has."""
    if len(samples) < estimate.MIN_SAMPLES:
        return {"label": "unknown", "why": f"{len(samples)} samples after channelising: too short"}
    found, x, _ = blind(samples, b.sps)
    if found.kind == "none":
        return {"label": "unknown", "why": "no signal in its channel", "estimate": found}
    length = b.lengths[0]
    runner = b.runner(length, threads)
    _, _, _, probs = classify_windows(runner, b.classes, b.spec(length), x, None, None)
    if not len(probs):
        return {"label": "unknown", "why": "shorter than a window", "estimate": found}
    decided, smoothed = decisions(probs, b.classes, k)
    shares = summary(decided)
    label = next((name for name in shares if name != "unknown"), "unknown")
    conf = [c for d, c in zip(decided, smoothed, strict=True) if d == label]
    return {"label": label, "confidence": float(np.mean(conf)) if conf else 0.0, "decisions": shares,
            "windows": len(decided), "estimate": found}  # fmt: skip
