# SPDX-License-Identifier: GPL-3.0-or-later
"""Throughput benchmark of amc.channel_detector against GNU Radio's own spectrum chain
(stream_to_vector -> fft_vcc with a Hann window -> complex_to_mag_squared) at the same FFT
size, in the same rounds (alternating, best round counts; bench_vectorizer's rules).

The input is white noise with four signals in it, so that the detector finds and tracks
something in every frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from gnuradio import blocks, fft, gr

from ..amc_python import channel_detector
from .bench_vectorizer import cores_label, pinned

RATE = 10e6  # nominal: the detector's frames and times are in seconds of it
BASELINE = "fft_vcc + complex_to_mag_squared"


@dataclass
class Result:
    fft_size: int
    msps: float
    baseline_msps: float

    @property
    def ratio(self) -> float:
        return self.msps / self.baseline_msps


def _scene(n: int = 1 << 20) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)
    k = np.arange(n)
    for f, bw in ((-0.3, 0.05), (-0.1, 0.01), (0.12, 0.002), (0.35, 0.03)):
        tone = rng.standard_normal(n) + 1j * rng.standard_normal(n)
        band = np.fft.ifft(np.fft.fft(tone) * (np.abs(np.fft.fftfreq(n)) < bw / 2))
        x += 10 * band / np.sqrt(np.mean(np.abs(band) ** 2)) * np.sqrt(bw) * np.exp(2j * np.pi * f * k)
    return x.astype(np.complex64)


def _time(chain, data: np.ndarray, samples: int) -> float:
    """Seconds that `samples` samples take through source -> head -> chain (a sink)."""
    tb = gr.top_block("bench", catch_exceptions=False)
    src = blocks.vector_source_c(data, True)
    head = blocks.head(gr.sizeof_gr_complex, samples)
    tb.connect(src, head)
    chain(tb, head)
    t0 = time.perf_counter()
    tb.run()
    return time.perf_counter() - t0


def _detector(n: int):
    def connect(tb, head):
        tb.detector = channel_detector(RATE, 0.0, n, 8)
        tb.connect(head, tb.detector)

    return connect


def _baseline(n: int):
    def connect(tb, head):
        s2v = blocks.stream_to_vector(gr.sizeof_gr_complex, n)
        f = fft.fft_vcc(n, True, fft.window.hann(n), True)
        mag = blocks.complex_to_mag_squared(n)
        tb.connect(head, s2v, f, mag, blocks.null_sink(gr.sizeof_float * n))

    return connect


def run(
    sizes=(4096, 8192), samples: int = 200_000_000, rounds: int = 3, cores: int | None = 1, progress=None
):
    """MS/s at the input of the detector and of the baseline, best of `rounds`."""
    data = _scene()
    results = []
    with pinned(cores):
        for n in sizes:
            base, det = [], []
            for _ in range(rounds):
                base.append(_time(_baseline(n), data, samples))
                det.append(_time(_detector(n), data, samples))
            results.append(Result(n, samples / min(det) / 1e6, samples / min(base) / 1e6))
            if progress:
                progress(results[-1])
    return results


def table(results: list[Result], cores: int | None) -> str:
    lines = [
        f"| FFT size ({cores_label(cores)}) | channel_detector MS/s | {BASELINE} MS/s | ratio |",
        "|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.fft_size} | {r.msps:.1f} | {r.baseline_msps:.1f} | {r.ratio:.2f} |")
    return "\n".join(lines)
