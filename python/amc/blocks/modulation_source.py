# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.modulation_source: a modulated signal of any RadioML class, as a GNU Radio hier block.

Every source has one complex output of unit average power. Digital classes run at an
integer number of samples per symbol with a root-raised-cosine pulse; analog classes
modulate audio that the project synthesises itself (runtime.waveforms).
"""

from __future__ import annotations

import numpy as np
from gnuradio import analog, blocks, digital, filter, gr

from ..runtime.waveforms import (
    ANALOG_RATE,
    CONSTELLATIONS,
    FSK_CLASSES,
    check_params,
    rrc_taps,
    synth_audio,
)


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
