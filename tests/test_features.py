# SPDX-License-Identifier: GPL-3.0-or-later
"""The numpy reference of the vectorizer on inputs whose answer is known by hand."""

import numpy as np
import pytest

from gnuradio.amc.runtime import features
from gnuradio.amc.runtime.features import NONFINITE, OK, SILENT, VectorSpec, transform


def one_window(values, n=16):
    x = np.zeros((1, n), dtype=np.complex64)
    x[0, : len(values)] = values
    return x


def test_l2_gives_unit_energy_in_both_layouts():
    x = one_window([3 + 4j])
    last, flags = transform(x, VectorSpec(16, "iq", "channels_last", "l2"))
    assert flags.tolist() == [OK]
    assert last.shape == (1, 16, 2)
    np.testing.assert_allclose(last[0, 0], [0.6, 0.8])  # (3, 4) / 5
    first, _ = transform(x, VectorSpec(16, "iq", "channels_first", "l2"))
    assert first.shape == (1, 2, 16)
    np.testing.assert_allclose(first[0, :, 0], [0.6, 0.8])
    np.testing.assert_allclose(first[0], last[0].T)


@pytest.mark.parametrize(
    "norm, expected",
    [
        ("none", 2.0),
        ("rms", 1.0),  # mean |x|^2 = 4 -> divide by 2
        ("l2", 0.25),  # sum |x|^2 = 16 * 4 = 64 -> divide by 8
        ("peak", 1.0),
        ("l1", 1 / 16),  # sum |x| = 32 -> divide by 32
    ],
)
def test_normalizations_of_a_constant(norm, expected):
    v, _ = transform(np.full((1, 16), 2.0 + 0j), VectorSpec(16, "iq", "channels_last", norm))
    np.testing.assert_allclose(v[0, :, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(v[0, :, 1], 0.0)


def test_amplitude_phase():
    x = one_window([1j, -1, 1, -1j, 2 + 2j])
    v, _ = transform(x, VectorSpec(16, "amp_phase"))
    amp, phase = v[0, :, 0], v[0, :, 1]
    np.testing.assert_allclose(np.sum(amp**2), 1.0, rtol=1e-6)
    np.testing.assert_allclose(phase[:5], [0.5, 1.0, 0.0, -0.5, 0.25], atol=1e-7)
    np.testing.assert_allclose(amp[4] / amp[0], np.sqrt(8))


def test_amplitude_follows_the_normalization_and_phase_does_not():
    rng = np.random.default_rng(1)
    x = 3 * (rng.normal(size=(1, 64)) + 1j * rng.normal(size=(1, 64)))
    l2, _ = transform(x, VectorSpec(64, "amp_phase", "channels_last", "l2"))
    rms, _ = transform(x, VectorSpec(64, "amp_phase", "channels_last", "rms"))
    raw, _ = transform(x, VectorSpec(64, "amp_phase", "channels_last", "none"))
    np.testing.assert_allclose(np.mean(rms[0, :, 0] ** 2), 1.0, rtol=1e-5)
    np.testing.assert_allclose(rms[0, :, 0], 8 * l2[0, :, 0], rtol=1e-5)  # sqrt(64)
    np.testing.assert_allclose(raw[0, :, 0], np.abs(x[0]), rtol=1e-5)
    np.testing.assert_array_equal(rms[0, :, 1], l2[0, :, 1])


def test_mag_fft_peaks_at_the_tone_with_dc_centred():
    n, avg, size = 256, 4, 64
    t = np.arange(n)
    x = 3 * np.exp(2j * np.pi * 5 / size * t)[None, :]  # bin 5 of a 64-point FFT
    v, _ = transform(x, VectorSpec(n, "mag_fft", "channels_last", "none", size, avg))
    assert v.shape == (1, size)
    assert np.argmax(v[0]) == size // 2 + 5
    np.testing.assert_allclose(v[0, size // 2 + 5], 3 * size, rtol=1e-5)
    dc, _ = transform(np.ones((1, n)), VectorSpec(n, "mag_fft", "channels_last", "none", 0, avg))
    assert np.argmax(dc[0]) == size // 2


def test_bad_windows_are_flagged_and_zeroed():
    x = np.ones((3, 16), dtype=np.complex64)
    x[1, 3] = np.nan
    x[2] = 0
    for spec in (VectorSpec(16), VectorSpec(16, "amp_phase"), VectorSpec(16, "mag_fft")):
        v, flags = transform(x, spec)
        assert flags.tolist() == [OK, NONFINITE, SILENT]
        assert np.all(v[1:] == 0) and np.all(np.isfinite(v))


def test_vectorize_cuts_overlapping_and_decimated_windows():
    stream = np.arange(100, dtype=np.complex64) + 1
    for hop, starts in [(16, [0, 16, 32, 48, 64, 80]), (40, [0, 40, 80]), (8, list(range(0, 85, 8)))]:
        v, _, got = features.vectorize(stream, VectorSpec(16, normalization="none"), hop)
        assert got.tolist() == starts
        np.testing.assert_allclose(v[:, 0, 0], np.array(starts) + 1)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(window=8), "window"),
        (dict(window=64, representation="polar"), "representation"),
        (dict(window=64, layout="NHWC"), "layout"),
        (dict(window=64, normalization="max"), "normalization"),
        (dict(window=64, representation="mag_fft", fft_size=48), "fft_size"),
        (dict(window=64, representation="mag_fft", fft_avg=0), "fft_avg"),
    ],
)
def test_bad_specs_name_the_parameter(kwargs, word):
    with pytest.raises(ValueError, match=word):
        VectorSpec(**kwargs)


def test_spec_shapes():
    assert VectorSpec(128).shape == (128, 2)
    assert VectorSpec(128, layout="channels_first").shape == (2, 128)
    assert VectorSpec(1024, "mag_fft", fft_avg=4).shape == (256,)
    assert VectorSpec(1024, "mag_fft", fft_avg=4).vlen == 256
