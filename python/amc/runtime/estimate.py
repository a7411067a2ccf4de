# SPDX-License-Identifier: GPL-3.0-or-later
"""Blind estimates of one dominant signal in a complex stream: what it is (single-carrier
linear, constant-envelope/FSK, analog, nothing), its carrier offset, occupied bandwidth,
symbol rate and SNR, so that a recording of unknown rate can be brought to the model's
samples per symbol (amc classify without --symbol-rate).

The estimate itself is amc.signal_estimator's, in C++ (the block runs it on a stream); this
module gives it to offline callers as an Estimate, with the words the CLI and the display
use for it. Frequencies are in cycles per sample (times the sample rate for Hz).
"""

from __future__ import annotations

import dataclasses

import numpy as np

SPAN = 1 << 18  # samples looked at, at most (signal_estimator::max_samples)
MIN_SAMPLES = 4096  # fewer cannot be estimated (signal_estimator::min_samples)
KINDS = ("linear", "constant_envelope", "analog", "none")


@dataclasses.dataclass
class Estimate:
    kind: str  # one of KINDS
    cfo: float  # carrier offset, cycles/sample
    bandwidth: float  # occupied bandwidth, cycles/sample
    symbol_rate: float | None  # cycles/sample; None for analog and nothing
    snr_db: float  # per-sample SNR: signal power over the noise power per sample (whole band)
    line: float  # strength of the symbol-rate line (peak over the median around it)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def sps(self) -> float | None:
        """Samples per symbol of the stream."""
        return 1.0 / self.symbol_rate if self.symbol_rate else None

    def as_dict(self, rate: float = 1.0) -> dict:
        """In Hz (and per second) with the stream's sample rate."""
        return {"kind": self.kind, "cfo_hz": self.cfo * rate, "bandwidth_hz": self.bandwidth * rate,
                "symbol_rate_hz": self.symbol_rate * rate if self.symbol_rate else None,
                "snr_db": round(self.snr_db, 2), "line": round(self.line, 1),
                "warnings": list(self.warnings)}  # fmt: skip


def si(x: float) -> str:
    """2000000 -> '2 M', 125000 -> '125 k', 160156.25 -> '160.156 k'."""
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.6g} {prefix}"
    return f"{x:.4g} "


def describe(d: dict, in_hz: bool = True) -> str:
    """An estimate's dict (Estimate.as_dict, or the estimator's message) in one line."""
    if d["kind"] == "none":
        return "no signal above the noise floor"

    def hz(v):
        return f"{si(v)}Hz" if in_hz else f"{v:.5g} x the sample rate"

    rs = f"symbol rate {hz(d['symbol_rate_hz'])}, " if d.get("symbol_rate_hz") else ""
    return (f"{d['kind'].replace('_', ' ')}: {rs}carrier offset {hz(d['cfo_hz'])}, "
            f"bandwidth {hz(d['bandwidth_hz'])}, SNR {d['snr_db']:.1f} dB per sample")  # fmt: skip


def estimate(x: np.ndarray) -> Estimate:
    """Estimates of the dominant signal in the complex stream x (of its first SPAN samples;
    of the first 2^k, 1.25 * 2^k or 1.5 * 2^k of them): amc.signal_estimator's C++
    estimate (how it works: include/gnuradio/amc/signal_estimator.h)."""
    from ..amc_python import signal_estimator  # the compiled module, loaded when used

    e = signal_estimator.estimate(np.ascontiguousarray(x, np.complex64))
    return Estimate(e.kind, e.cfo, e.bandwidth, e.symbol_rate or None, e.snr_db, e.line, list(e.warnings))
