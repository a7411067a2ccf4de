# SPDX-License-Identifier: GPL-3.0-or-later
"""Modulated test signals of the RadioML classes, made with GNU Radio blocks.

Every source is a hier block with one complex output of unit average power. Digital
classes run at an integer number of samples per symbol with a root-raised-cosine
pulse; analog classes modulate audio that the project synthesises itself.
"""

from __future__ import annotations

import numpy as np
from gnuradio import analog, blocks, digital, filter, gr
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


class modulation_source(gr.hier_block2):
    """A modulated signal of one RadioML class, unit average power, complex out.

    Args:
        modulation: a class name of RML2016.10a or RML2018.01a (see ALL_CLASSES).
        sps: samples per symbol (integer >= 2) of the digital classes.
        rolloff: root-raised-cosine roll-off of the linear classes.
        seed: seeds the symbols (and the audio of analog classes).
        audio_seconds: length of the synthesised audio loop of analog classes.
    """

    def __init__(
        self, modulation: str = "QPSK", sps: int = 8, rolloff: float = 0.35, seed: int = 0, audio_seconds=4.0
    ):
        gr.hier_block2.__init__(
            self, "modulation_source", gr.io_signature(0, 0, 0), gr.io_signature(1, 1, gr.sizeof_gr_complex)
        )
        check_params(modulation, sps, rolloff)
        self.modulation = modulation
        seed = int(seed) % (2**31 - 1) or 1
        if modulation in CONSTELLATIONS:
            self._linear(CONSTELLATIONS[modulation], sps, rolloff, seed, offset_q=modulation == "OQPSK")
        elif modulation in FSK_CLASSES:
            self._fsk(modulation, sps, seed)
        else:
            self._analog(modulation, seed, audio_seconds)

    def _linear(self, points, sps, rolloff, seed, offset_q):
        src = analog.random_uniform_source_b(0, len(points), seed)
        mapper = digital.chunks_to_symbols_bc(points.astype(np.complex64).tolist(), 1)
        shaper = filter.interp_fir_filter_ccf(sps, rrc_taps(sps, rolloff))
        self.connect(src, mapper, shaper)
        if not offset_q:
            self.connect(shaper, self)
            return
        # OQPSK: Q lags I by half a symbol.
        split = blocks.complex_to_float()
        delay = blocks.delay(gr.sizeof_float, sps // 2)
        join = blocks.float_to_complex()
        self.connect(shaper, split)
        self.connect((split, 0), (join, 0))
        self.connect((split, 1), delay, (join, 1))
        self.connect(join, self)

    def _fsk(self, modulation, sps, seed):
        if modulation == "CPFSK":  # continuous-phase binary FSK, h = 0.5 (MSK), as the original
            bits = analog.random_uniform_source_b(0, 2, seed)
            self.connect(bits, analog.cpfsk_bc(0.5, 1.0, sps), self)
            return
        octets = analog.random_uniform_source_b(0, 256, seed)
        if modulation == "GFSK":  # h = 0.8 / pi whatever sps, BT 0.35 (the original at 8 sps)
            mod = digital.gfsk_mod(samples_per_symbol=sps, sensitivity=0.8 / sps, bt=0.35)
        else:  # GMSK, BT 0.3
            mod = digital.gmsk_mod(samples_per_symbol=sps, bt=0.3)
        self.connect(octets, mod, self)

    def _analog(self, modulation, seed, seconds):
        audio = synth_audio(ANALOG_RATE, seconds, seed)
        # A random start in the clip, so that bursts do not all begin alike.
        audio = np.roll(audio, -np.random.default_rng(seed).integers(len(audio)))
        if modulation in ("WBFM", "FM"):
            # 75 kHz peak deviation at the original's 220.5 kHz, scaled to ANALOG_RATE
            src = blocks.vector_source_f(audio.tolist(), True)
            self.connect(src, analog.frequency_modulator_fc(2 * np.pi * 75e3 / 220.5e3), self)
            return
        with_carrier = modulation in ("AM-DSB", "AM-DSB-WC", "AM-SSB-WC")
        depth = 0.5 if with_carrier else 1.0
        if modulation.startswith("AM-SSB"):
            # The analytic signal a + jH{a} keeps the upper sideband only. The clip
            # loops, so the FFT's periodic Hilbert transform is exact for it.
            spectrum = np.fft.fft(audio)
            spectrum[len(audio) // 2 + 1 :] = 0
            spectrum[1 : len(audio) // 2] *= 2
            message = np.fft.ifft(spectrum)
        else:
            message = audio.astype(np.complex128)
        carrier = 1.0 if with_carrier else 0.0
        norm = 1 / np.sqrt(depth**2 * np.mean(np.abs(message) ** 2) + carrier**2)  # unit power
        src = blocks.vector_source_c(message.astype(np.complex64).tolist(), True)
        modulate = blocks.multiply_const_cc(depth * norm)
        add_carrier = blocks.add_const_cc(carrier * norm)
        self.connect(src, modulate, add_carrier, self)


def check_params(modulation: str | None = None, sps: int | None = None, rolloff: float | None = None) -> None:
    """Raise ValueError naming the first bad parameter among those given."""
    if modulation is not None and modulation not in ALL_CLASSES:
        raise ValueError(f"modulation {modulation!r} is not one of: {', '.join(ALL_CLASSES)}")
    if sps is not None and (int(sps) != sps or sps < 2):
        raise ValueError(f"sps {sps} must be an integer >= 2")
    if rolloff is not None and not 0.0 < rolloff <= 1.0:
        raise ValueError(f"rolloff {rolloff} must be in (0, 1]")
