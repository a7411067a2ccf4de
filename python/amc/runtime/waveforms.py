# SPDX-License-Identifier: GPL-3.0-or-later
"""The RadioML classes: names, symbol alphabets, pulse shapes and synthetic audio.

What a signal of each class is made of, shared by the GNU Radio sources
(blocks.modulation_source), the dataset generator and the classifier's labels.
numpy and GNU Radio's filter design only.
"""

from __future__ import annotations

import numpy as np
from gnuradio.filter import firdes

# Class lists in the order of the original files (radioml.md).
RML2016_CLASSES = (
    "8PSK",
    "AM-DSB",
    "AM-SSB",
    "BPSK",
    "CPFSK",
    "GFSK",
    "PAM4",
    "QAM16",
    "QAM64",
    "QPSK",
    "WBFM",
)


RML2018_CLASSES = (
    "OOK", "4ASK", "8ASK", "BPSK", "QPSK", "8PSK", "16PSK", "32PSK", "16APSK", "32APSK", "64APSK", "128APSK",
    "16QAM", "32QAM", "64QAM", "128QAM", "256QAM", "AM-SSB-WC", "AM-SSB-SC", "AM-DSB-WC", "AM-DSB-SC", "FM",
    "GMSK", "OQPSK",
)  # fmt: skip


# Nominal sample rate of analog classes (the original's 200 kHz); digital classes
# are defined by samples per symbol alone.
ANALOG_RATE = 200e3


def _unit_power(points) -> np.ndarray:
    p = np.asarray(points, dtype=np.complex128)
    return p / np.sqrt(np.mean(np.abs(p) ** 2))


def psk(m: int, offset: float = 0.0) -> np.ndarray:
    return np.exp(1j * (offset + 2 * np.pi * np.arange(m) / m))


def pam(m: int) -> np.ndarray:
    return _unit_power(np.arange(m) * 2 - (m - 1))


def ask(m: int) -> np.ndarray:
    """Unipolar amplitude levels 0 .. m-1 (OOK is 2-ASK)."""
    return _unit_power(np.arange(m))


def qam(m: int) -> np.ndarray:
    """Square QAM for even powers of two, cross QAM (corners removed) for odd ones."""
    side = {32: 6, 128: 12}.get(m, int(round(np.sqrt(m))))  # 6x6 - 4 corners, 12x12 - 16
    axis = np.arange(side) * 2 - (side - 1)
    grid = (axis[None, :] + 1j * axis[:, None]).ravel()
    if side * side != m:
        corner = (side * side - m) // 4  # points removed per corner
        k = int(np.sqrt(corner))
        lim = side - 1 - 2 * k  # keep |I| <= lim or |Q| <= lim
        grid = grid[(np.abs(grid.real) <= lim) | (np.abs(grid.imag) <= lim)]
    assert len(grid) == m
    return _unit_power(grid)


def apsk(rings: tuple[int, ...], radii: tuple[float, ...]) -> np.ndarray:
    """Rings of equally spaced points (DVB-S2/S2X style), each ring rotated by half a step."""
    pts = [r * np.exp(1j * (np.pi / n) * (1 + 2 * np.arange(n))) for n, r in zip(rings, radii, strict=True)]
    return _unit_power(np.concatenate(pts))


# Symbol alphabets of the linear classes.
CONSTELLATIONS = {
    "BPSK": psk(2),
    "QPSK": psk(4, np.pi / 4),
    "OQPSK": psk(4, np.pi / 4),
    "8PSK": psk(8),
    "16PSK": psk(16),
    "32PSK": psk(32),
    "PAM4": pam(4),
    "OOK": ask(2),
    "4ASK": ask(4),
    "8ASK": ask(8),
    "QAM16": qam(16),
    "16QAM": qam(16),
    "32QAM": qam(32),
    "QAM64": qam(64),
    "64QAM": qam(64),
    "128QAM": qam(128),
    "256QAM": qam(256),
    "16APSK": apsk((4, 12), (1.0, 2.57)),
    "32APSK": apsk((4, 12, 16), (1.0, 2.53, 4.3)),
    "64APSK": apsk((4, 12, 20, 28), (1.0, 2.4, 4.3, 7.0)),
    "128APSK": apsk((8, 16, 24, 32, 48), (1.0, 2.0, 3.0, 4.0, 5.0)),
}


FSK_CLASSES = ("GFSK", "CPFSK", "GMSK")


ANALOG_CLASSES = ("AM-DSB", "AM-SSB", "WBFM", "AM-SSB-WC", "AM-SSB-SC", "AM-DSB-WC", "AM-DSB-SC", "FM")


ALL_CLASSES = tuple(dict.fromkeys(RML2016_CLASSES + RML2018_CLASSES))


def rrc_taps(sps: int, rolloff: float, span: int = 11) -> list[float]:
    """Root-raised-cosine taps scaled so that unit-power symbols give unit-power samples."""
    taps = np.array(firdes.root_raised_cosine(1.0, sps, 1.0, rolloff, span * sps + 1))
    return (taps * np.sqrt(sps) / np.sqrt(np.sum(taps**2))).tolist()


def synth_audio(rate: float, seconds: float, seed: int) -> np.ndarray:
    """Music-like audio at `rate`: a melody of harmonic notes (100 Hz .. 2 kHz with
    overtones to about 8 kHz), a bass line and soft noise, never silent, peak 1."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    t = np.arange(n) / rate
    out = np.zeros(n)
    for voice, (lo, hi, note_len) in enumerate(((200.0, 2000.0, 0.25), (60.0, 250.0, 0.5))):
        n_notes = int(seconds / note_len) + 1
        freqs = np.exp(rng.uniform(np.log(lo), np.log(hi), n_notes))
        idx = np.minimum((t / note_len).astype(int), n_notes - 1)
        phase = 2 * np.pi * np.cumsum(freqs[idx]) / rate
        # a soft attack and decay per note, never reaching zero
        env = 0.6 + 0.4 * np.exp(-((t % note_len) / note_len) * 3)
        for h, amp in ((1, 1.0), (2, 0.5), (3, 0.3), (4, 0.15)):
            out += (0.7 if voice == 0 else 0.5) * amp * env * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
    out += 0.05 * rng.standard_normal(n)
    out -= out.mean()
    return (out / np.max(np.abs(out))).astype(np.float32)


def check_params(modulation: str | None = None, sps: int | None = None, rolloff: float | None = None) -> None:
    """Raise ValueError naming the first bad parameter among those given."""
    if modulation is not None and modulation not in ALL_CLASSES:
        raise ValueError(f"modulation {modulation!r} is not one of: {', '.join(ALL_CLASSES)}")
    if sps is not None and (int(sps) != sps or sps < 2):
        raise ValueError(f"sps {sps} must be an integer >= 2")
    if rolloff is not None and not 0.0 < rolloff <= 1.0:
        raise ValueError(f"rolloff {rolloff} must be in (0, 1]")
