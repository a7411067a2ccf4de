# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole scanner (amc.scanner: detector, lanes, blind front end, model) on a band at
10 MS/s with several signals: how fast it takes the stream in against amc.channel_detector
alone in the same run, and, paced at the band's own rate, whether it keeps real time and how
often each signal is classified.

The band: a scene of datasets.scene (`amc dataset scene`): white noise with `signals` signals
of QPSK, BPSK, 8PSK, QAM16, PAM4 and CPFSK, 150 kHz to 1.2 MHz wide, 15 to 25 dB in their band,
2^22 samples played in a loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pmt
from gnuradio import blocks, gr

from ..amc_python import channel_detector
from ..blocks.scanner import scanner
from ..datasets import scene
from .bench_vectorizer import pinned

RATE = 10e6
CLASSES = ("QPSK", "BPSK", "8PSK", "QAM16", "PAM4", "CPFSK")
LENGTH = 1 << 22


def band(signals: int, seed: int = 0):
    """(samples, truth) of a band with `signals` signals side by side (datasets.scene)."""
    return scene.make(RATE, LENGTH / RATE, signals, CLASSES, (150e3, 1.2e6), (15.0, 25.0), False, seed)


@dataclass
class Result:
    signals: int
    msps: float  # scanner, unpaced
    detector_msps: float  # the detector alone, unpaced
    realtime: float  # stream seconds per wall second, paced at RATE (>= 0.99: keeps up)
    classified_per_s: float  # classifications per second of stream, paced
    right: float  # share of classified reports whose label is the truth's
    longest_wait_s: float  # the longest a signal waited between classifications, paced

    @property
    def ratio(self) -> float:
        return self.msps / self.detector_msps


def _unpaced(data: np.ndarray, samples: int, whole: bool) -> float:
    tb = gr.top_block("bench", catch_exceptions=False)
    head = blocks.head(gr.sizeof_gr_complex, samples)
    tb.connect(blocks.vector_source_c(data, True), head)
    if whole:
        tb.sink = scanner("default", RATE, 0.0, 4096, 6.0, 0.0, 1.0, 0.25, 4, 8, 1)
    else:
        tb.sink = channel_detector(RATE, 0.0, 4096, 8)
    tb.connect(head, tb.sink)
    t0 = time.perf_counter()
    tb.run()
    return samples / (time.perf_counter() - t0) / 1e6


def _paced(data: np.ndarray, seconds: float, truth: list[dict]):
    tb = gr.top_block("bench", catch_exceptions=False)
    samples = int(seconds * RATE)
    src, head = blocks.vector_source_c(data, True), blocks.head(gr.sizeof_gr_complex, samples)
    sc = scanner("default", RATE, 0.0, 4096, 6.0, 0.0, 1.0, 0.25, 4, 8, 1)
    store = blocks.message_debug()
    tb.connect(src, blocks.throttle(gr.sizeof_gr_complex, RATE), head, sc)
    tb.msg_connect(sc, "reports", store, "store")
    t0 = time.perf_counter()
    tb.run()
    wall = time.perf_counter() - t0
    reports = [pmt.to_python(store.get_message(i)) for i in range(store.num_messages())]
    done = [d for d in reports if d.get("status") == "classified"]
    right, waits = [], []
    for t in truth:
        mine = [d for d in done if abs(d["center_hz"] - t.center_hz) < 0.3 * t.symbol_rate_hz]
        right += [d["label"] == t.label for d in mine]
        times = [0.0] + sorted(d["stream_time"] for d in mine) + [seconds]
        waits.append(float(np.max(np.diff(times))))
    return seconds / wall, len(done) / seconds, float(np.mean(right)) if right else 0.0, max(waits)


def run(signals=(6,), samples: int = 100_000_000, rounds: int = 1, cores=None, seconds: float = 20.0):
    """One Result per signal count: unpaced MS/s (best of rounds) of the scanner and of the
    detector alone, then a paced run of `seconds`; on `cores` CPUs (None: all)."""
    results = []
    with pinned(cores):
        for n in signals:
            data, truth = band(n)
            whole, det = [], []
            for _ in range(rounds):
                det.append(_unpaced(data, samples, False))
                whole.append(_unpaced(data, samples, True))
            results.append(Result(n, max(whole), max(det), *_paced(data, seconds, truth)))
    return results


def table(results: list[Result], cores=None) -> str:
    lines = [
        "| signals | scanner MS/s | detector alone MS/s | ratio | paced at 10 MS/s: real-time factor "
        "| classified /s | right | longest wait (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.signals} | {r.msps:.1f} | {r.detector_msps:.1f} | {r.ratio:.2f} "
                     f"| {r.realtime:.3f} | {r.classified_per_s:.2f} | {100 * r.right:.0f} % "
                     f"| {r.longest_wait_s:.1f} |")  # fmt: skip
    return "\n".join(lines)
