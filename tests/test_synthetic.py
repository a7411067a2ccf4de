# SPDX-License-Identifier: GPL-3.0-or-later
"""The on-the-fly training generator (datasets.synthetic): held to the GNU Radio sources
at their nominal settings, reproducible, never repeating, and `amc train --generate`."""

import numpy as np
import pytest
from gnuradio import blocks, gr

from gnuradio.amc.blocks.modulation_source import modulation_source
from gnuradio.amc.datasets import synthetic
from gnuradio.amc.runtime import waveforms

# The defaults are modulation_source's settings: RRC 0.35, exact 8 sps, CPFSK h 0.5, GFSK h 0.8/pi
# BT 0.35, AM-DSB depth 0.5, WBFM at its deviation; no channel, no receiver, no noise.
NOMINAL = synthetic.Ranges()
N = 128


def gnuradio_windows(name: str, n: int) -> np.ndarray:
    tb = gr.top_block()
    src = modulation_source(name, 8, 0.35, seed=3)
    skip = blocks.skiphead(gr.sizeof_gr_complex, 4096)
    head = blocks.head(gr.sizeof_gr_complex, n * N)
    sink = blocks.vector_sink_c()
    tb.connect(src, skip, head, sink)
    tb.run()
    x = np.asarray(sink.data()).reshape(n, N)
    return x / np.sqrt(np.mean(np.abs(x) ** 2, axis=1, keepdims=True))


def statistics(x: np.ndarray) -> np.ndarray:
    """Amplitude moments and the normalised autocorrelation magnitude at lags 1..8, averaged
    over windows: what tells pulse shape, modulation index and constellation apart."""
    p = np.abs(x) ** 2
    kurtosis = np.mean(p**2, axis=1) / np.mean(p, axis=1) ** 2
    acf = [np.abs(np.mean(x[:, k:] * np.conj(x[:, :-k]), axis=1)) / np.mean(p, axis=1) for k in range(1, 9)]
    return np.array([np.mean(kurtosis), *(np.mean(a) for a in acf)])


@pytest.mark.parametrize("name", waveforms.ALL_CLASSES)
def test_the_twin_matches_the_gnuradio_source_at_nominal_settings(name):
    nominal = synthetic.Ranges(classes=waveforms.ALL_CLASSES)
    ours = synthetic.batch(nominal, 600, N, 0, 0, classes=[nominal.classes.index(name)] * 600).windows
    np.testing.assert_allclose(
        statistics(ours), statistics(gnuradio_windows(name, 600)), atol=0.06, rtol=0.04
    )


def test_batches_are_reproducible_and_never_repeat():
    r = synthetic.preset("rml2016_random")
    a, b, c = (synthetic.batch(r, 64, N, 7, i) for i in (0, 0, 1))
    np.testing.assert_array_equal(a.windows, b.windows)
    assert not np.allclose(a.windows, c.windows)
    assert np.all(np.isfinite(a.windows)) and a.windows.dtype == np.complex64
    labels = synthetic.batch(r, 2000, N, 7, 2).labels
    assert set(np.unique(labels)) == {synthetic.OUTLIER, *range(len(r.classes))}
    assert np.mean(labels == synthetic.OUTLIER) == pytest.approx(r.outliers, abs=0.03)


def test_outliers_are_signals_of_no_class():
    r = synthetic.Ranges(outliers=1.0)
    b = synthetic.batch(r, 500, N, 3, 0)
    assert np.all(b.labels == synthetic.OUTLIER) and np.all(np.isfinite(b.windows))
    np.testing.assert_allclose(np.mean(np.abs(b.windows) ** 2, axis=1), 1.0, rtol=1e-4)


def test_a_preset_names_its_outlier_kinds():
    def envelope_spread(kinds):
        r = synthetic.Ranges(**{**NOMINAL.__dict__, "outliers": 1.0, "outlier_kinds": kinds})
        b = synthetic.batch(r, 300, N, 4, 0)
        assert np.all(b.labels == synthetic.OUTLIER)
        return np.std(np.abs(b.windows))

    # two rings (radii 1:2.57) against one: the kind named is the kind drawn
    assert envelope_spread(("16APSK",)) > 1.3 * envelope_spread(("16PSK",))
    with pytest.raises(ValueError, match="outlier_kinds"):
        synthetic.Ranges(outlier_kinds=("QPSK", "BPSK"))  # all of them classes: nothing to draw
    with pytest.raises(ValueError, match="outlier_kinds"):
        synthetic.Ranges(outlier_kinds=("FM radio",))
    with pytest.raises(ValueError, match="must be a list of kinds"):
        synthetic.Ranges(outlier_kinds="noise")


def test_noise_follows_the_per_sample_snr():
    r = synthetic.Ranges(**{**NOMINAL.__dict__, "noise_free": 0.0, "snr_db": (0.0, 0.0)})
    b = synthetic.batch(r, 400, N, 1, 0, classes=[r.classes.index("QPSK")] * 400)
    # unit signal power plus noise of power 10^(-0/10) = 1
    assert np.mean(np.abs(b.windows) ** 2) == pytest.approx(2.0, rel=0.03)


def test_the_receiver_filter_takes_the_noise_out_of_band_and_leaves_the_signal():
    noisy = {**NOMINAL.__dict__, "noise_free": 0.0, "snr_db": (0.0, 0.0), "receiver_cutoff": (0.6, 0.6)}
    qpsk, wbfm = (NOMINAL.classes.index(c) for c in ("QPSK", "WBFM"))

    def spectrum(ranges, cls):
        x = synthetic.batch(synthetic.Ranges(**ranges), 600, N, 2, 0, classes=[cls] * 600).windows
        assert x.shape == (600, N) and np.all(np.isfinite(x))
        psd = np.mean(np.abs(np.fft.fft(x, axis=1)) ** 2, axis=0)
        f = np.abs(np.fft.fftfreq(N)) * 8  # in symbol rates at 8 sps
        return 10 * np.log10(psd[f < 0.4].mean() / psd[f > 1.2].mean()), np.mean(np.abs(x) ** 2)

    white, _ = spectrum(noisy, qpsk)
    filtered, power = spectrum({**noisy, "receiver_filter": 1.0}, qpsk)
    assert white < 15 and filtered > white + 15  # the noise beyond the cutoff is gone
    # in band, signal and noise are left: unit signal power plus the in-band share of the noise
    assert 1.1 < power < 1.4
    # analog windows are left as they are (the blind front end does not filter them)
    analog = spectrum({**noisy, "receiver_filter": 1.0}, wbfm)[0]
    assert analog == pytest.approx(spectrum(noisy, wbfm)[0], abs=1.0)


def test_class_weights_set_the_share_of_each_class_in_a_batch():
    r = synthetic.Ranges(class_weights={"QAM16": 3, "QAM64": 3})
    labels = synthetic.batch(r, 6000, 32, seed=1, index=0).labels
    share = np.bincount(labels, minlength=len(r.classes)) / len(labels)
    expected = np.where(np.isin(r.classes, ["QAM16", "QAM64"]), 3.0, 1.0)
    np.testing.assert_allclose(share, expected / expected.sum(), atol=0.015)
    # without weights the stream is the one the shipped models were trained on
    plain = synthetic.batch(synthetic.Ranges(), 50, 32, seed=1, index=0).labels
    np.testing.assert_array_equal(plain, np.random.default_rng([1, 0]).integers(len(r.classes), size=50))


def test_bad_ranges_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="rolloff"):
        synthetic.Ranges(rolloff=(0.5, 0.2))
    with pytest.raises(ValueError, match="receiver_cutoff"):
        synthetic.Ranges(receiver_cutoff=(0.0, 1.0))
    with pytest.raises(ValueError, match="multipath 1.5"):
        synthetic.Ranges(multipath=1.5)
    with pytest.raises(ValueError, match="class_weights"):
        synthetic.Ranges(class_weights={"OFDM": 2.0})
    with pytest.raises(ValueError, match="class_weights"):
        synthetic.Ranges(class_weights={"QAM16": 0})
    with pytest.raises(ValueError, match="OFDM cannot be synthesised"):
        synthetic.Ranges(classes=("QPSK", "OFDM"))
    bad = tmp_path / "x.yaml"
    bad.write_text("snr: [0, 10]\n")
    with pytest.raises(ValueError, match="unknown keys snr"):
        synthetic.preset(str(bad))
    with pytest.raises(ValueError, match="neither a preset"):
        synthetic.preset("no_such_preset")


def test_preset_classes_are_the_radioml_classes():
    assert synthetic.preset("rml2016_random").classes == waveforms.RML2016_CLASSES
    r = synthetic.preset("rml2018_random")
    assert r.classes == waveforms.RML2018_CLASSES
    # the outlier kinds that are RML2018 classes (OOK, 8ASK, ...) are not drawn as outliers
    b = synthetic.batch(synthetic.Ranges(classes=r.classes, outliers=1.0), 400, N, 5, 0)
    assert np.all(b.labels == synthetic.OUTLIER) and np.all(np.isfinite(b.windows))
