# SPDX-License-Identifier: GPL-3.0-or-later
"""Blind estimates of one dominant signal in a complex stream: what it is (single-carrier
linear, constant-envelope/FSK, analog, nothing), its carrier offset, occupied bandwidth,
symbol rate and SNR, so that a recording of unknown rate can be brought to the model's
samples per symbol (amc classify without --symbol-rate).

Symbol rate from cyclostationary features: the spectral line of the squared envelope |x|^2
for linear modulations with excess bandwidth, and of the squared derivative of the
instantaneous frequency (its jumps at symbol boundaries) for FSK; the line's frequency is
refined between FFT bins by Jacobsen's estimator. The carrier offset is the power-weighted
centre of the occupied band. numpy's FFT; frequencies are in cycles per sample (times the
sample rate for Hz).
"""

from __future__ import annotations

import dataclasses

import numpy as np

SPAN = 1 << 18  # samples looked at, at most
PSD_SIZE = 1024  # Welch segments of the power spectrum
BAND_DB = 13.0  # the occupied band: within this of the peak of the smoothed spectrum
NOTHING_DB = 3.0  # a peak less than this above the noise floor is no signal
LINE_MIN = 8.0  # a spectral line this many times the median nearby is a symbol rate
MIN_SAMPLES = 4 * PSD_SIZE  # fewer cannot be estimated
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


def _psd(x: np.ndarray) -> np.ndarray:
    """Welch's power spectrum, Hann segments overlapping by half, DC in the middle."""
    n = PSD_SIZE
    hops = max(1, (len(x) - n) // (n // 2) + 1)
    w = np.hanning(n)
    segs = np.stack([x[i * n // 2 : i * n // 2 + n] * w for i in range(hops)])
    return np.fft.fftshift(np.mean(np.abs(np.fft.fft(segs, axis=1)) ** 2, axis=0)) / np.sum(w**2)


def _bands(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (first, last) bin pairs."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(edges[::2], edges[1::2] - 1, strict=True))


def _line(y: np.ndarray, lo: float, hi: float) -> tuple[float, float, float]:
    """The strongest spectral line of the real sequence y between lo and hi (cycles/sample):
    its frequency refined by Jacobsen's three-bin estimator, its strength (over the median
    of the 400 bins around it) and its magnitude."""
    n = len(y)
    spectrum = np.fft.rfft(y - y.mean())
    mag = np.abs(spectrum)
    k0, k1 = max(2, int(lo * n)), min(len(mag) - 2, int(np.ceil(hi * n)))
    if k1 <= k0 + 2:
        return 0.0, 0.0, 0.0
    k = k0 + int(np.argmax(mag[k0:k1]))
    around = mag[max(1, k - 200) : k + 200]
    strength = mag[k] / max(np.median(around), 1e-30)
    a, b, c = spectrum[k - 1], spectrum[k], spectrum[k + 1]
    denom = 2 * b - a - c
    delta = float(np.real((a - c) / denom)) if abs(denom) > 0 else 0.0
    return (k + float(np.clip(delta, -0.5, 0.5))) / n, float(strength), float(mag[k])


def _fundamental(y: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """_line's frequency and strength, but a line at half the frequency found is the symbol
    rate when it is a line too and not much smaller: the jumps of a rectangular FSK make
    harmonics about as large as the first (the strength favours them, where the noise
    around is lower); the weaker sub-harmonics of a non-integer sampling pattern are not."""
    f, strength, mag = _line(y, lo, hi)
    while f > 0:
        half, s_half, m_half = _line(y, 0.49 * f, 0.51 * f)
        if s_half < LINE_MIN or m_half < 0.7 * mag:
            break
        f, strength, mag = half, s_half, m_half
    return f, strength


def estimate(x: np.ndarray) -> Estimate:
    """Estimates of the dominant signal in the complex stream x (the first SPAN samples)."""
    x = np.asarray(x[:SPAN], np.complex128)
    if len(x) < MIN_SAMPLES:
        raise ValueError(f"{len(x)} samples: blind estimation needs at least {MIN_SAMPLES}")
    x = np.where(np.isfinite(x), x, 0)  # NaN/Inf samples count as silence here
    p = _psd(x)
    freqs = (np.arange(PSD_SIZE) - PSD_SIZE // 2) / PSD_SIZE
    smooth = np.convolve(p, np.ones(9) / 9, mode="same")
    floor = max(float(np.median(np.sort(smooth)[: PSD_SIZE // 5])), 1e-30)  # the quietest fifth
    peak = float(smooth.max())
    warnings = []
    if 10 * np.log10(peak / floor) < NOTHING_DB:
        return Estimate("none", 0.0, 0.0, None, -np.inf, 0.0, ["no signal above the noise floor"])
    excess = np.maximum(smooth - floor, 0)
    bands = _bands(excess > excess.max() * 10 ** (-BAND_DB / 10))
    powers = [float(excess[a : b + 1].sum()) for a, b in bands]
    order = np.argsort(powers)[::-1]
    first, last = bands[order[0]]
    if len(bands) > 1 and powers[order[1]] > 0.1 * powers[order[0]]:
        warnings.append(f"{len(bands)} signals in the band: the strongest is estimated")
    if first <= 2 or last >= PSD_SIZE - 3:
        warnings.append("the signal reaches the band edge or is wider than the band: estimates are unsure")
    band = slice(first, last + 1)
    cfo = float(np.sum(freqs[band] * excess[band]) / np.sum(excess[band]))
    bandwidth = (last - first + 1) / PSD_SIZE
    snr_db = 10 * np.log10(max(float(np.sum(excess[band])) / (floor * PSD_SIZE), 1e-12))

    # centred and filtered to the band (a brick wall a little wider), for the lines
    n = len(x)
    y = x * np.exp(-2j * np.pi * cfo * np.arange(n))
    spectrum = np.fft.fft(y)
    far = np.abs(np.fft.fftfreq(n))
    # FSK's symbol rate shows in its spectral skirts: a wider filter for its features
    y_fsk = np.fft.ifft(np.where(far > 1.5 * bandwidth + 2.0 / PSD_SIZE, 0, spectrum))
    y = np.fft.ifft(np.where(far > 0.6 * bandwidth + 2.0 / PSD_SIZE, 0, spectrum))
    # a root-raised-cosine signal of roll-off b occupies about (1 + b) * Rs: Rs lies between
    # bandwidth / 1.7 and the bandwidth; a narrow FSK (GFSK of index 0.25) occupies less than
    # half its symbol rate, a wide one up to several
    rs_lin, s_lin = _fundamental(np.abs(y) ** 2, bandwidth / 1.7, min(0.5, 1.1 * bandwidth))
    # FSK: the instantaneous frequency is a PAM waveform; its square has the line (Gaussian
    # pulses, GFSK), and so has its jumps' (rectangular ones, CPFSK)
    inst = np.angle(y_fsk[1:] * np.conj(y_fsk[:-1]))
    inst -= inst.mean()
    (f_sq, s_sq), (f_jump, s_jump) = (
        _fundamental(g, bandwidth / 4, min(0.5, 3 * bandwidth)) for g in (inst**2, np.diff(inst) ** 2)
    )
    rs_fsk, s_fsk = (f_sq, s_sq) if s_sq > s_jump else (f_jump, s_jump)
    octave = f_sq > 0 and f_jump > 0 and abs(max(f_sq, f_jump) / min(f_sq, f_jump) - 2) < 0.02
    if min(s_sq, s_jump) >= LINE_MIN and octave:
        # the two features an octave apart: the jumps' line is the symbol rate (the squared
        # frequency of a rectangular FSK peaks at 2 Rs; the sampling pattern of a non-integer
        # samples per symbol can make a line at Rs / 2)
        rs_fsk, s_fsk = f_jump, s_jump
    elif (
        s_sq > s_jump and f_sq > 0 and _line(np.diff(inst) ** 2, 0.49 * f_sq, 0.51 * f_sq)[1] >= LINE_MIN / 2
    ):
        rs_fsk = f_sq / 2  # the jumps, weaker elsewhere, still show a line at half: 2 Rs was found
    kurtosis = _kurtosis(y_fsk, floor * min(1.0, 2 * (1.5 * bandwidth + 2.0 / PSD_SIZE)))
    if kurtosis < CONSTANT_ENVELOPE:
        # FSK (or FM); the band filter's ripple on its envelope carries the symbol rate too
        rs, strength = (rs_fsk, s_fsk) if s_fsk >= LINE_MIN else (rs_lin, s_lin)
        if strength >= LINE_MIN:
            return Estimate("constant_envelope", cfo, bandwidth, rs, snr_db, strength, warnings)
    elif s_lin >= LINE_MIN:
        return Estimate("linear", cfo, bandwidth, rs_lin, snr_db, s_lin, warnings)
    return Estimate("analog", cfo, bandwidth, None, snr_db, max(s_lin, s_fsk), warnings)


# E|s|^4 / (E|s|^2)^2 of the signal (the noise's share taken out): 1 for FSK and FM,
# 1.19 and up for root-raised-cosine PSK, PAM and QAM (measured, roll-off 0.2..0.5)
CONSTANT_ENVELOPE = 1.1


def _kurtosis(y: np.ndarray, noise: float) -> float:
    """E|s|^4 / (E|s|^2)^2 of the signal s in y = s + n, n circular Gaussian of power `noise`
    (E|y|^2 = S + N, E|y|^4 = E|s|^4 + 4 S N + 2 N^2)."""
    m2, m4 = float(np.mean(np.abs(y) ** 2)), float(np.mean(np.abs(y) ** 4))
    signal = max(m2 - noise, 1e-30)
    return (m4 - 4 * signal * noise - 2 * noise**2) / signal**2
