# SPDX-License-Identifier: GPL-3.0-or-later
"""Throughput benchmark of the blind front end: amc.normalizer alone and behind
amc.signal_estimator, against GNU Radio's pfb_arb_resampler_ccf alone at the same rate
change, in the same rounds (alternating, best round counts; bench_vectorizer's rules).

The input is a QPSK signal at `sps` samples per symbol; the estimator re-estimates
once per `interval` samples (one second at the benchmark's nominal 20 MS/s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gnuradio import filter as grf
from gnuradio import gr

from ..amc_python import normalizer, signal_estimator
from .bench_vectorizer import _time_flowgraph, cores_label, pinned

RATE = 20e6  # nominal input rate: the estimator's interval is one second of it
BASELINE = "pfb_arb_resampler_ccf"


@dataclass
class Result:
    name: str
    sps: float
    msps: float
    baseline_msps: float

    @property
    def ratio(self) -> float:
        return self.msps / self.baseline_msps


def _signal(sps: float, n: int = 1 << 18) -> np.ndarray:
    rng = np.random.default_rng(0)
    symbols = (rng.choice([1, -1], n) + 1j * rng.choice([1, -1], n)) / np.sqrt(2)
    t = np.arange(n) / sps  # rectangular pulses are enough to time a filter chain
    return symbols[np.floor(t).astype(int) % n].astype(np.complex64)


class _front_end(gr.hier_block2):
    """signal_estimator -> normalizer, as AMC Classify has them."""

    def __init__(self, sps: float):
        gr.hier_block2.__init__(
            self,
            "front_end",
            gr.io_signature(1, 1, gr.sizeof_gr_complex),
            gr.io_signature(1, 1, gr.sizeof_gr_complex),
        )
        self.est = signal_estimator(RATE, 65536, int(RATE))
        self.norm = normalizer(RATE, 8, RATE / sps)
        self.connect(self, self.est, self.norm, self)
        self.msg_connect(self.est, "estimate", self.norm, "estimate")


def run(
    sps=(4.0, 16.0, 64.0), samples: int = 40_000_000, rounds: int = 3, cores: int | None = 1, progress=None
):
    """MS/s at the input of each configuration, best of `rounds`."""
    results = []
    with pinned(cores):
        for s in sps:
            data = _signal(s)
            base, alone, both = [], [], []
            for _ in range(rounds):
                base.append(_time_flowgraph(grf.pfb.arb_resampler_ccf(8 / s, [], 32, 100), data, samples))
                alone.append(_time_flowgraph(normalizer(RATE, 8, RATE / s), data, samples))
                both.append(_time_flowgraph(_front_end(s), data, samples))
            for name, times in (("normalizer", alone), ("estimator + normalizer", both)):
                results.append(Result(name, s, samples / min(times) / 1e6, samples / min(base) / 1e6))
                if progress:
                    progress(results[-1])
    return results


def table(results: list[Result], cores: int | None) -> str:
    where = cores_label(cores)
    lines = [
        f"| configuration ({where}) | input sps | MS/s | {BASELINE} alone MS/s | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.sps:g} | {r.msps:.1f} | {r.baseline_msps:.1f} | {r.ratio:.2f} |")
    return "\n".join(lines)
