# SPDX-License-Identifier: GPL-3.0-or-later
"""The regenerated datasets: physics measured on the vectors (not read back from the
generator's parameters), the file formats, determinism, and bad input."""

import dataclasses
import os
import pickle
import subprocess
import time

import numpy as np
import pytest

from gnuradio.amc.datasets import generate as dataset
from gnuradio.amc.datasets import readers
from gnuradio.amc.datasets.generate import Config, Task
from gnuradio.amc.runtime import waveforms

LINEAR = ["BPSK", "QPSK", "8PSK", "PAM4", "QAM16", "OOK", "4ASK", "16PSK", "32APSK", "64QAM", "256QAM"]


def windows(modulation, sps=8, length=1024, snr=10, channel="none", per=40, seed=1):
    cfg = Config((modulation,), (sps,), (length,), (snr,), per, channel=channel, seed=seed)
    task = Task(modulation, dataset.NOISE_FREE_SNR if channel == "none" else snr, sps, length)
    return dataset.run_task(cfg, task)[1].astype(np.complex128)


def matched_symbols(x, sps, points):
    """Matched-filter each window and sample it at the symbol phase that fits `points` best."""
    taps = np.array(waveforms.rrc_taps(sps, 0.35))
    best = None
    for w in x:
        y = np.convolve(w, taps / np.sum(taps**2), mode="valid")
        for phase in range(sps):
            s = y[phase::sps][2:-2]
            err = np.abs(s[:, None] - points[None, :]).min(axis=1)
            evm = np.sqrt(np.mean(err**2) / np.mean(np.abs(points) ** 2))
            if best is None or evm < best[0]:
                best = (evm, s)
        yield best
        best = None


@pytest.mark.parametrize("sps", [4, 8])
@pytest.mark.parametrize("modulation", ["BPSK", "QPSK", "QAM16", "8PSK"])
def test_measured_samples_per_symbol(modulation, sps):
    # |x|^2 of an RRC-shaped linear signal has a spectral line at the symbol rate.
    x = windows(modulation, sps)
    p = np.abs(x) ** 2
    spectrum = np.abs(np.fft.fft(p - p.mean(axis=1, keepdims=True), axis=1)).mean(axis=0)
    k = np.argmax(spectrum[5 : x.shape[1] // 2]) + 5
    assert x.shape[1] / k == pytest.approx(sps, rel=0.02)


@pytest.mark.parametrize("sps", [4, 8])
@pytest.mark.parametrize("modulation", LINEAR)
def test_matched_filtered_symbols_sit_on_the_constellation(modulation, sps):
    points = waveforms.CONSTELLATIONS[modulation]
    evms = [evm for evm, _ in matched_symbols(windows(modulation, sps, per=4), sps, points)]
    # RRC-RRC with an 11-symbol span leaves ISI near -40 dB: EVM below 3 %.
    assert max(evms) < 0.03, evms


def test_ook_has_off_symbols():
    points = waveforms.CONSTELLATIONS["OOK"]
    _, symbols = next(matched_symbols(windows("OOK", 8, per=1), 8, points))
    off = np.mean(np.abs(symbols) < 0.3 * np.abs(points).max())
    assert 0.35 < off < 0.65


@pytest.mark.parametrize("esn0", [0, 10, 20])
@pytest.mark.parametrize("sps", [4, 8])
def test_measured_snr_matches_the_label(esn0, sps):
    # Out of the signal's band (|f| > (1 + 0.35) / (2 sps)) there is only noise:
    # its level there gives the noise power, the rest is signal.
    x = windows("QPSK", sps, snr=esn0, channel="awgn", per=200)
    n = x.shape[1]
    psd = np.abs(np.fft.fft(x, axis=1)) ** 2 / n
    f = np.abs(np.fft.fftfreq(n))
    out_of_band = f > 0.75 / sps + 0.01
    noise = psd[:, out_of_band].mean(axis=1) * n
    signal = psd.sum(axis=1) - noise
    measured = 10 * np.log10(np.mean(signal / noise))
    assert measured == pytest.approx(esn0 - 10 * np.log10(sps), abs=0.5)


def test_ssb_is_one_sided_and_dsb_wc_has_its_carrier():
    def sides(modulation):
        x = windows(modulation, per=20)
        dc = np.abs(x.mean(axis=1)) ** 2 / np.mean(np.abs(x) ** 2, axis=1)
        # a Hann window keeps the audio's low notes from leaking across DC
        psd = (
            np.abs(np.fft.fft((x - x.mean(axis=1, keepdims=True)) * np.hanning(x.shape[1]), axis=1)) ** 2
        ).mean(0)
        n = len(psd)
        return dc.mean(), psd[n // 2 + 1 : n - 2].sum() / psd[3 : n // 2].sum()

    for ssb in ("AM-SSB", "AM-SSB-SC", "AM-SSB-WC"):
        assert sides(ssb)[1] < 0.01, ssb
    for dsb in ("AM-DSB-SC",):
        assert sides(dsb)[1] == pytest.approx(1.0, rel=0.3)
    for carrier in ("AM-DSB", "AM-DSB-WC", "AM-SSB-WC"):
        assert sides(carrier)[0] > 0.5, carrier
    assert sides("AM-DSB-SC")[0] < 0.1


@pytest.mark.parametrize("modulation, h", [("GFSK", 0.8 / np.pi), ("CPFSK", 0.5), ("GMSK", 0.5)])
def test_fsk_keeps_its_modulation_index_whatever_the_sps(modulation, h):
    # The instantaneous frequency peaks at h / 2 cycles per symbol on runs of equal bits.
    for sps in (4, 8):
        x = windows(modulation, sps, per=20)
        f = np.angle(x[:, 1:] * np.conj(x[:, :-1])) / (2 * np.pi) * sps
        assert 2 * np.percentile(np.abs(f), 99.5) == pytest.approx(h, rel=0.06), sps


@pytest.mark.parametrize("modulation", ["FM", "WBFM", "GMSK", "CPFSK", "GFSK"])
def test_constant_envelope(modulation):
    env = np.abs(windows(modulation, per=10))
    assert env.std() / env.mean() < 0.01


def test_every_class_has_unit_power_at_every_sps():
    for modulation in waveforms.ALL_CLASSES:
        for sps in (4, 8):
            p = np.mean(np.abs(windows(modulation, sps, length=256, per=20)) ** 2)
            # audio without a carrier is as loud as the notes in the windows drawn
            loose = modulation in ("AM-SSB", "AM-SSB-SC", "AM-DSB-SC")
            assert p == pytest.approx(1.0, rel=0.35 if loose else 0.1), (modulation, sps)


def test_analog_windows_are_not_silent():
    for modulation in waveforms.ANALOG_CLASSES:
        x = windows(modulation, length=128, per=200)
        ac = np.abs(x - x.mean(axis=1, keepdims=True)).mean(axis=1)
        assert np.all(ac > 1e-3), modulation


# --------------------------------------------------------------------------- files


SMALL = Config(("QPSK", "AM-SSB", "GFSK"), (8,), (128,), (0, 10), 30, seed=7)


def test_pickle_round_trip(tmp_path):
    out = tmp_path / "small.pkl"
    summary = dataset.generate(SMALL, str(out), "pickle", quiet=True)
    data = readers.read_pickle(str(out))
    assert summary["vectors"] == 3 * 2 * 30
    assert sorted(data) == sorted((m, s) for m in SMALL.classes for s in SMALL.snrs)
    task = Task("AM-SSB", 10, 8, 128)
    expected = dataset.to_vectors(SMALL, dataset.run_task(SMALL, task)[1], "channels_first")
    assert data[("AM-SSB", 10)].dtype == np.float32 and data[("AM-SSB", 10)].shape == (30, 2, 128)
    np.testing.assert_array_equal(data[("AM-SSB", 10)], expected)


def test_hdf5_round_trip_with_several_lengths(tmp_path):
    cfg = Config(("BPSK", "WBFM"), (4, 8), (64, 256), (-10, 10), 12, seed=3, normalization="l2")
    out = tmp_path / "small.h5"
    dataset.generate(cfg, str(out), "hdf5", quiet=True)
    with pytest.raises(ValueError, match="lengths"):
        readers.read_hdf5(str(out))
    d = readers.read_hdf5(str(out), length=256)
    n = 2 * 2 * 2 * 12
    assert d["X"].shape == (n, 256, 2) and d["X"].dtype == np.float32
    assert d["Y"].shape == (n, 2) and d["Y"].dtype == np.int64 and np.all(d["Y"].sum(axis=1) == 1)
    assert d["Z"].shape == (n, 1) and set(d["Z"][:, 0]) == {-10, 10}
    assert set(d["sps"]) == {4, 8}
    np.testing.assert_allclose(np.sum(d["X"] ** 2, axis=(1, 2)), 1.0, rtol=1e-5)
    np.testing.assert_allclose(d["snr_db"], d["esn0_db"] - 10 * np.log10(d["sps"]), rtol=1e-6)
    attrs = d["attrs"]
    assert attrs["classes"] == ["BPSK", "WBFM"] and attrs["seed"] == 3 and attrs["channel"] == "rml2016"
    assert attrs["generator"].startswith("gr-amc ") and "Es/N0" in attrs["snr_definition"]
    # the WBFM vectors at 4 sps, -10 dB, are where the file order puts them
    task = Task("WBFM", -10, 4, 256)
    expected = dataset.to_vectors(cfg, dataset.run_task(cfg, task)[1], "channels_last")
    rows = np.where((d["Y"][:, 1] == 1) & (d["Z"][:, 0] == -10) & (d["sps"] == 4))[0]
    np.testing.assert_array_equal(d["X"][rows], expected)


def test_same_seed_same_bytes_whatever_the_jobs(tmp_path):
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    ha = dataset.generate(SMALL, str(a), "hdf5", jobs=1, quiet=True)["sha256"]
    time.sleep(1.1)  # HDF5 object headers keep times in whole seconds: none may be written
    hb = dataset.generate(SMALL, str(b), "hdf5", jobs=2, quiet=True)["sha256"]
    assert ha == hb
    several = dataclasses.replace(SMALL, lengths=(64, 128), per=4)
    hashes = []
    for name in ("d.h5", "e.h5"):
        hashes.append(dataset.generate(several, str(tmp_path / name), "hdf5", quiet=True)["sha256"])
        time.sleep(1.1)
    assert hashes[0] == hashes[1]  # groups (one per length) carry no times either
    other = Config(SMALL.classes, SMALL.sps, SMALL.lengths, SMALL.snrs, SMALL.per, seed=8)
    assert dataset.generate(other, str(c), "hdf5", quiet=True)["sha256"] != ha


def test_interrupted_run_leaves_nothing_and_can_run_again(tmp_path, monkeypatch):
    out = tmp_path / "x.pkl"
    real = dataset.run_task
    calls = []

    def dies(cfg, task):
        calls.append(task)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(cfg, task)

    monkeypatch.setattr(dataset, "run_task", dies)
    with pytest.raises(KeyboardInterrupt):
        dataset.generate(SMALL, str(out), "pickle", quiet=True)
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(dataset, "run_task", real)
    dataset.generate(SMALL, str(out), "pickle", quiet=True)
    assert os.listdir(tmp_path) == ["x.pkl"]
    with pytest.raises(ValueError, match="force"):
        dataset.generate(SMALL, str(out), "pickle", quiet=True)


def test_pickle_reader_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    bad = tmp_path / "evil.pkl"
    bad.write_bytes(pickle.dumps({("QPSK", 0): Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        readers.read_pickle(str(bad))
    assert not (tmp_path / "pwned").exists()


def test_compat_mode_uses_the_original_noise_and_l1(tmp_path):
    cfg = Config(("QPSK",), (8,), (128,), (10,), 20, compat=True)
    assert dataset.noise_std(cfg, Task("QPSK", 10, 8, 128)) == pytest.approx(0.1)
    out = tmp_path / "c.pkl"
    dataset.generate(cfg, str(out), "pickle", quiet=True)
    v = readers.read_pickle(str(out))[("QPSK", 10)]
    np.testing.assert_allclose(np.abs(v[:, 0] + 1j * v[:, 1]).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(classes=("QPSK", "FOO")), "modulation"),
        (dict(sps=(1,)), "sps"),
        (dict(lengths=(8,)), "length"),
        (dict(snrs=()), "snr"),
        (dict(channel="rayleigh"), "channel"),
        (dict(per=0), "per"),
    ],
)
def test_bad_configurations_fail_before_work(kwargs, word):
    base = dict(classes=("QPSK",), sps=(8,), lengths=(128,), snrs=(0,), per=10)
    with pytest.raises(ValueError, match=word):
        Config(**{**base, **kwargs})


def test_bad_snr_ranges_and_outputs(tmp_path):
    with pytest.raises(ValueError, match="reversed"):
        dataset.snr_range(10, 0)
    with pytest.raises(ValueError, match="does not exist"):
        dataset.check_output(str(tmp_path / "missing" / "x.h5"), False)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if not os.access(ro, os.W_OK):  # root may write anyway
        with pytest.raises(ValueError, match="not writable"):
            dataset.check_output(str(ro / "x.h5"), False)
    with pytest.raises(ValueError, match="pickle holds one"):
        cfg = Config(("QPSK",), (4, 8), (128,), (0,), 5)
        dataset.generate(cfg, str(tmp_path / "x.pkl"), "pickle", quiet=True)


def test_cli_generate_and_info(root, tmp_path):
    amc = str(root / ".venv/bin/amc")
    out = tmp_path / "cli.h5"
    args = "dataset generate --preset modified --classes QPSK WBFM --length 128 256 --snr 0 10 10 --per 5"
    args = [*args.split(), "--channel", "awgn", "--out", str(out), "--jobs", "1"]
    r = subprocess.run([amc, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "80 vectors" in r.stdout
    assert "generating [" in r.stderr
    info = subprocess.run([amc, "dataset", "info", str(out)], capture_output=True, text=True)
    assert "L128: X (40, 128, 2) float32, 2 classes, SNR 0..10 (2 values)" in info.stdout
    again = subprocess.run([amc, *args], capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr
    bad_args = [
        ("--sps 1", "sps"),
        ("--snr 10 0", "reversed"),
        ("--length 8", "length"),
        ("--classes NOPE", "modulation"),
        ("--preset rml2020", "preset"),
        ("--snr 5", "START STOP"),
    ]
    for bad, word in bad_args:
        r = subprocess.run(
            [amc, *args[:-4], *bad.split(), "--out", str(tmp_path / "y.h5")], capture_output=True, text=True
        )
        assert r.returncode == 2 and word in r.stderr, (bad, r.stderr)
        assert not (tmp_path / "y.h5").exists()
