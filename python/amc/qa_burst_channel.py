#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""QA of amc.burst_channel: delay, noise level, fading power, bursts, seeds, errors."""

import numpy as np
import pmt
from gnuradio import amc, blocks, gr, gr_unittest

# An output sample is the input 8 samples earlier (interpolator and filter centring).
DELAY = 8


def lowpass_noise(n, seed=0):
    """Unit-power complex noise limited to |f| < 0.25, where interpolation is exact enough."""
    rng = np.random.default_rng(seed)
    spectrum = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    spectrum[n // 4 : 3 * n // 4] = 0
    x = np.fft.ifft(spectrum)
    return (x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex64)


def run(x, **kwargs):
    tb = gr.top_block()
    src = blocks.vector_source_c(x.tolist())
    chan = amc.burst_channel(**kwargs)
    sink = blocks.vector_sink_c()
    tb.connect(src, chan, sink)
    tb.run()
    return np.array(sink.data()), sink.tags(), chan


class qa_burst_channel(gr_unittest.TestCase):
    def test_001_nothing_random_is_a_pure_delay(self):
        x = lowpass_noise(20000)
        y, _, chan = run(x, burst_len=1000, random_phase=False, random_timing=False)
        np.testing.assert_allclose(y[DELAY:], x[:-DELAY], atol=1e-5)
        self.assertEqual(chan.bursts(), 20)

    def test_002_noise_has_the_requested_power(self):
        x = lowpass_noise(100000)
        y, _, _ = run(x, burst_len=5000, noise_std=0.5, random_phase=False, random_timing=False)
        noise = y[DELAY:] - x[:-DELAY]
        self.assertAlmostEqual(np.mean(np.abs(noise) ** 2), 0.25, delta=0.01)

    def test_003_each_burst_draws_a_phase_and_a_frequency(self):
        x = np.ones(64 * 100, np.complex64)
        y, tags, _ = run(x, burst_len=640, cfo_max=0.001, random_timing=False, seed=3)
        info = [pmt.to_python(t.value) for t in tags if pmt.symbol_to_string(t.key) == "amc_burst"]
        self.assertEqual([t.offset for t in tags], list(range(0, 6400, 640)))
        self.assertEqual([d["index"] for d in info], list(range(10)))
        for b, d in enumerate(info):
            seg = y[b * 640 + 32 : (b + 1) * 640]
            t = np.arange(b * 640 + 32, (b + 1) * 640) - b * 640
            expected = np.exp(1j * (d["phase"] + 2 * np.pi * d["cfo"] * t))
            np.testing.assert_allclose(seg, expected, atol=1e-4)
        self.assertEqual(len({round(d["phase"], 6) for d in info}), 10)

    def test_004_fading_keeps_unit_power_on_average(self):
        x = lowpass_noise(400 * 1000, 1)
        y, _, _ = run(
            x, burst_len=1000, fading=True, doppler=1e-4, delays=[0, 0.9, 1.7], mags=[1, 0.8, 0.3], seed=1
        )
        power = np.array([np.mean(np.abs(y[b * 1000 + 32 : (b + 1) * 1000]) ** 2) for b in range(400)])
        self.assertAlmostEqual(power.mean(), 1.0, delta=0.1)
        self.assertGreater(power.std(), 0.2)  # bursts fade differently

    def test_005_same_seed_same_samples(self):
        x = lowpass_noise(30000, 2)
        kw = dict(burst_len=3000, noise_std=0.3, cfo_max=0.01, sro_max=0.001, fading=True, doppler=1e-5,
                  delays=[0, 0.9, 1.7], mags=[1, 0.8, 0.3])  # fmt: skip
        a, _, _ = run(x, seed=5, **kw)
        b, _, _ = run(x, seed=5, **kw)
        c, _, _ = run(x, seed=6, **kw)
        np.testing.assert_array_equal(a, b)
        self.assertFalse(np.allclose(a, c))

    def test_006_bad_parameters_name_themselves(self):
        cases = [
            (dict(burst_len=10), "burst_len"),
            (dict(burst_len=1000, noise_std=-1), "noise_std"),
            (dict(burst_len=1000, cfo_max=0.6), "cfo_max"),
            (dict(burst_len=1000, sro_max=0.01), "sro_max"),
            (dict(burst_len=1000, doppler=0.1), "doppler"),
            (dict(burst_len=1000, delays=[0, 1], mags=[1]), "delays"),
            (dict(burst_len=1000, delays=[9], mags=[1]), "delays"),
            (dict(burst_len=1000, delays=[0], mags=[0]), "mags"),
        ]
        for kwargs, word in cases:
            with self.assertRaises(ValueError, msg=str(kwargs)) as ctx:
                amc.burst_channel(**kwargs)
            self.assertIn(word, str(ctx.exception))
        chan = amc.burst_channel(1000)
        with self.assertRaises(ValueError):
            chan.set_noise_std(float("nan"))


if __name__ == "__main__":
    gr_unittest.run(qa_burst_channel)
