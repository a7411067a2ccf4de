# SPDX-License-Identifier: GPL-3.0-or-later
"""Throughput benchmark of the vectorizer inside a running flowgraph.

Each configuration runs as  vector_source (repeating noise) -> head -> block ->
null_sink, and GNU Radio's blocks.stream_to_vector of the same window runs in
the same rounds as the baseline. Rounds alternate baseline and candidate so that
both see the same machine noise; the best round of each counts.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

import numpy as np
from gnuradio import blocks, gr

from ..amc_python import vectorizer

# (representation, layout, normalization, fft_avg) measured at every window length.
CONFIGS = (
    ("iq", "channels_last", "l2", 1),
    ("iq", "channels_first", "l2", 1),
    ("iq", "channels_last", "none", 1),
    ("iq", "channels_last", "peak", 1),
    ("iq", "channels_last", "l1", 1),
    ("amp_phase", "channels_last", "l2", 1),
    ("mag_fft", "channels_last", "none", 1),
    ("mag_fft", "channels_last", "none", 4),
)
BASELINE = "stream_to_vector"


@dataclass
class Result:
    name: str
    window: int
    msps: float
    baseline_msps: float

    @property
    def ratio(self) -> float:
        return self.msps / self.baseline_msps


def _time_flowgraph(block, data: np.ndarray, samples: int) -> float:
    """Seconds that `samples` samples take through source -> head -> block -> sink."""
    tb = gr.top_block("bench", catch_exceptions=False)
    src = blocks.vector_source_c(data.tolist(), True)
    head = blocks.head(gr.sizeof_gr_complex, samples)
    sink = blocks.null_sink(block.output_signature().sizeof_stream_item(0))
    tb.connect(src, head, block, sink)
    t0 = time.perf_counter()
    tb.run()
    return time.perf_counter() - t0


@contextlib.contextmanager
def pinned(cores: int | None):
    """Run the flowgraph threads (which inherit the affinity) on `cores` CPUs."""
    if not cores:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, sorted(before)[:cores])
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def run(
    windows=(128, 1024),
    samples: int = 20_000_000,
    rounds: int = 3,
    cores: int | None = 1,
    configs=CONFIGS,
    progress=None,
) -> list[Result]:
    """Measure every configuration at every window length; MS/s are best-of-rounds."""
    rng = np.random.default_rng(0)
    data = ((rng.standard_normal(1 << 16) + 1j * rng.standard_normal(1 << 16)) / np.sqrt(2)).astype(
        np.complex64
    )
    results = []
    with pinned(cores):
        for window in windows:
            for repr_, layout, norm, fft_avg in configs:
                cand, base = [], []
                for _ in range(rounds):
                    s2v = blocks.stream_to_vector(gr.sizeof_gr_complex, window)
                    base.append(_time_flowgraph(s2v, data, samples))
                    vec = vectorizer(window, window, repr_, layout, norm, 0, fft_avg)
                    cand.append(_time_flowgraph(vec, data, samples))
                base_best, cand_best = min(base), min(cand)
                name = f"{repr_}/{layout}/{norm}" + (f"/avg{fft_avg}" if repr_ == "mag_fft" else "")
                results.append(Result(name, window, samples / cand_best / 1e6, samples / base_best / 1e6))
                if progress:
                    progress(results[-1])
    return results


def cores_label(cores: int | None) -> str:
    """'1 core', '2 cores' or 'all cores' (None), for a table's header."""
    return f"{cores} core" + ("s" if cores > 1 else "") if cores else "all cores"


def table(results: list[Result], cores: int | None) -> str:
    """Markdown table of the results."""
    where = cores_label(cores)
    lines = [
        f"| configuration ({where}) | N | vectorizer MS/s | {BASELINE} MS/s | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.name} | {r.window} | {r.msps:.1f} | {r.baseline_msps:.1f} | {r.ratio:.2f} |")
    return "\n".join(lines)
