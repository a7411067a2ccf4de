#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wideband scenes from the independent generator (cross_generator.py: numpy and scipy only, no code
shared with gr-amc): several signals of the eight digital classes at once, of chosen widths, powers,
centres and on/off times, in white noise, with the truth written as SigMF annotations. What
`amc scan` and the wideband floors are measured on.

    examples/zoo/cross_scene.py OUT [--rate 10e6] [--duration 1] [--signals 4] [--seed 1] [--bursts]

OUT.sigmf-data / OUT.sigmf-meta. Each signal is made at 4 samples per symbol in pieces of 2^18
samples (the pieces are independent symbol streams: a phase jump every 65k symbols) and brought
to the scene's rate by scipy's polyphase resampler; its power is set by its SNR in band (signal
power over the noise power in one symbol rate, i.e. Es/N0), the noise having unit power per sample.
The truth per signal: class, centre, symbol rate, roll-off, occupied bandwidth ((1 + roll-off)
symbol rates; 1.2 / 0.8 for CPFSK / GFSK), the -3 dB bandwidth of its clean spectrum (the symbol
rate; measured on 2^17 samples for FSK), SNR, start and stop sample.
"""

import argparse
import fractions
import functools
import json
import os
import sys

import numpy as np
from scipy import signal as sps_signal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cross_generator as cg  # noqa: E402

SPS = 4  # samples per symbol the signals are made at, before resampling to the scene's rate
PIECE = 1 << 18
OCCUPANCY = {"CPFSK": 1.2, "GFSK": 0.8}  # occupied bandwidth in symbol rates (linear: 1 + roll-off)


def clean(name: str, n: int, rs: float, rate: float, rolloff: float, rng) -> tuple[np.ndarray, float, float]:
    """n unit-power samples at `rate` of a signal of about rs symbols/s, its exact symbol rate
    and the -3 dB width of its spectrum (Hz)."""
    ratio = fractions.Fraction(rate / (SPS * rs)).limit_denominator(64)
    up, down = ratio.numerator, ratio.denominator
    need = int(np.ceil(n * down / up)) + 64
    pieces = [cg.baseband(name, min(PIECE, need - i), SPS, rng, rolloff) for i in range(0, need, PIECE)]
    x4 = np.concatenate(pieces)
    x = sps_signal.resample_poly(x4, up, down)[32 * up // down :][:n]
    rs_exact = rate * down / (up * SPS)
    # a root-raised-cosine spectrum is at half power at +-rs/2 exactly
    width = rs_exact * (fsk_width(name) if name in OCCUPANCY else 1.0)
    return x / np.sqrt(np.mean(np.abs(x) ** 2)), rs_exact, width


@functools.cache
def fsk_width(name: str) -> float:
    """An FSK class's -3 dB width in symbol rates, measured once on a long clean piece (a
    burst's periodogram is too noisy), from a generator of its own so that the scenes' draws
    do not depend on it."""
    return width_3db(cg.baseband(name, 1 << 17, SPS, np.random.default_rng(0), 0.35)) * SPS


def width_3db(x: np.ndarray) -> float:
    """The -3 dB width of x's spectrum as a share of its sample rate: between the outermost
    points at half its peak (Welch, 4096 bins, smoothed over 9)."""
    f, p = sps_signal.welch(x, 1.0, nperseg=min(len(x), 4096), return_onesided=False)
    order = np.argsort(f)
    f, p = f[order], np.convolve(p[order], np.ones(9) / 9, mode="same")
    above = np.flatnonzero(p >= p.max() / 2)
    return float(f[above[-1]] - f[above[0]])


def place(rng, rate, count, bw_range):
    """count (centre, occupied width) pairs that do not overlap (20 % guard), inside 90 % of the band."""
    placed = []
    while len(placed) < count:
        bw = float(np.exp(rng.uniform(*np.log(bw_range))))
        centre = float(rng.uniform(-0.45 * rate + bw, 0.45 * rate - bw))
        if all(abs(centre - c) > 0.6 * (bw + w) for c, w in placed):
            placed.append((centre, bw))
    return placed


def scene(rng, rate=10e6, duration=1.0, count=4, classes=cg.RML2016, bw_range=(25e3, 1e6), snr_range=(10, 25),
          bursts=False, min_on=0.5):  # fmt: skip
    """(samples, truth): count signals in unit-power white noise. With bursts, every second signal
    is a train of 50-200 ms bursts; the others are on for at least min_on of the duration."""
    n = int(rate * duration)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * np.sqrt(0.5)
    truth = []
    for i, (centre, bw) in enumerate(place(rng, rate, count, bw_range)):
        name = str(rng.choice(classes))
        rolloff = float(rng.uniform(0.2, 0.5))
        rs = bw / OCCUPANCY.get(name, 1 + rolloff)
        snr = float(rng.uniform(*snr_range))
        if bursts and i % 2:
            spans, t = [], rng.uniform(0, 0.1) * n
            while t < n:
                length = rng.uniform(0.05, 0.2) * rate
                spans.append((int(t), int(min(n, t + length))))
                t += length + rng.uniform(0.05, 0.3) * rate
        else:
            on = int(rng.uniform(min_on, 1.0) * n)
            start = int(rng.integers(0, n - on + 1))
            spans = [(start, start + on)]
        for a, b in spans:
            if b - a < 4096:
                continue
            s, rs_exact, width = clean(name, b - a, rs, rate, rolloff, rng)
            gain = np.sqrt(10 ** (snr / 10) * rs_exact / rate)  # Es/N0 with N0 = 1 / rate
            x[a:b] += gain * s * np.exp(2j * np.pi * centre / rate * np.arange(a, b))
            occupied = OCCUPANCY.get(name, 1 + rolloff) * rs_exact
            truth.append({"class": name, "center_hz": centre, "symbol_rate_hz": rs_exact,
                          "rolloff": rolloff if name not in OCCUPANCY else None, "bandwidth_hz": occupied,
                          "bandwidth_3db_hz": width, "snr_db": snr, "start": a, "stop": b,
                          "burst": bool(bursts and i % 2)})  # fmt: skip
    return x.astype(np.complex64), truth


def write_sigmf(path: str, x: np.ndarray, rate: float, truth: list, centre_freq: float = 0.0) -> None:
    x.tofile(path + ".sigmf-data")
    meta = {
        "global": {"core:datatype": "cf32_le", "core:sample_rate": rate, "core:version": "1.0.0",
                   "core:description": "wideband scene of examples/zoo/cross_scene.py (ground truth)",
                   "core:extensions": [{"name": "truth", "version": "1.0.0", "optional": True}]},
        "captures": [{"core:sample_start": 0, "core:frequency": centre_freq}],
        "annotations": [
            {"core:sample_start": t["start"], "core:sample_count": t["stop"] - t["start"],
             "core:freq_lower_edge": centre_freq + t["center_hz"] - t["bandwidth_hz"] / 2,
             "core:freq_upper_edge": centre_freq + t["center_hz"] + t["bandwidth_hz"] / 2,
             "core:label": t["class"], "core:generator": "cross_scene.py",
             "truth:symbol_rate_hz": t["symbol_rate_hz"], "truth:bandwidth_3db_hz": t["bandwidth_3db_hz"],
             "truth:snr_db": t["snr_db"], "truth:rolloff": t["rolloff"], "truth:burst": t["burst"]}
            for t in sorted(truth, key=lambda t: t["start"])
        ],
    }  # fmt: skip
    with open(path + ".sigmf-meta", "w") as f:
        json.dump(meta, f, indent=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="path without .sigmf-data / .sigmf-meta")
    p.add_argument("--rate", type=float, default=10e6)
    p.add_argument("--duration", type=float, default=1.0, help="seconds")
    p.add_argument("--signals", type=int, default=4)
    p.add_argument("--bandwidth", type=float, nargs=2, default=[25e3, 1e6], help="occupied, Hz")
    p.add_argument("--snr", type=float, nargs=2, default=[10, 25], help="in band (Es/N0), dB")
    p.add_argument("--bursts", action="store_true", help="every second signal in 50-200 ms bursts")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    x, truth = scene(rng, a.rate, a.duration, a.signals, bw_range=tuple(a.bandwidth), snr_range=tuple(a.snr),
                     bursts=a.bursts)  # fmt: skip
    write_sigmf(a.out, x, a.rate, truth)
    for t in truth:
        print(f"{t['class']:6s} {t['center_hz'] / 1e3:+10.1f} kHz  {t['bandwidth_hz'] / 1e3:8.1f} kHz  "
              f"{t['snr_db']:5.1f} dB  {t['start'] / a.rate:.3f}-{t['stop'] / a.rate:.3f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
