# SPDX-License-Identifier: GPL-3.0-or-later
"""The blind front end (runtime.estimate) on signals of the independent generator
(examples/zoo/cross_generator.py, no code shared with gr-amc), and `amc classify` on a
recording of unknown rate."""

import importlib.util
import json
import subprocess

import numpy as np
import pytest

from gnuradio.amc.runtime import estimate as est


@pytest.fixture(scope="module")
def gen(root):
    spec = importlib.util.spec_from_file_location("cross_generator", root / "examples/zoo/cross_generator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def signal(gen, name, sps, esn0_db=20.0, cfo=0.0, n=1 << 16, seed=0):
    """sps may be a half-integer: made at 2 sps, every second sample kept."""
    rng = np.random.default_rng(seed)
    twice = 1 if float(sps).is_integer() else 2
    whole = int(round(sps * twice))
    x = gen.windows(name, 1, n * twice, whole, esn0_db + 10 * np.log10(whole / sps), rng, (0.2, 0.5))[0][
        ::twice
    ]
    return (x * np.exp(2j * np.pi * cfo * np.arange(n))).astype(np.complex64)


@pytest.mark.parametrize("name,sps", [("QPSK", 2.5), ("QAM16", 5.5), ("BPSK", 12), ("8PSK", 20)])
def test_symbol_rate_and_carrier_of_linear_signals(gen, name, sps):
    e = est.estimate(signal(gen, name, sps, 10.0, cfo=0.05, seed=int(sps * 2)))
    assert e.kind == "linear"
    assert abs(e.symbol_rate * sps - 1) < 1e-3  # within 0.1 %
    assert abs(e.cfo - 0.05) * sps < 0.02  # within 2 % of the symbol rate
    assert e.warnings == []


@pytest.mark.parametrize("name,sps", [("CPFSK", 4), ("CPFSK", 16), ("GFSK", 5.5)])
def test_fsk_is_constant_envelope_at_its_symbol_rate(gen, name, sps):
    e = est.estimate(signal(gen, name, sps, 20.0, cfo=-0.02, seed=3))
    assert e.kind == "constant_envelope"
    assert abs(e.symbol_rate * sps - 1) < 0.02


@pytest.mark.parametrize("sps,esn0_db", [(4, 10.0), (8, 12.0), (12, 10.0), (16, 10.0)])
def test_narrow_gfsk_keeps_its_rate_near_10_db(gen, sps, esn0_db):
    # GFSK of index 0.25: its frequency's square lost the line below about 15 dB (clicks);
    # at 12-16 sps 64k samples hold 4,000-5,500 symbols, too few for the unfiltered root
    e = est.estimate(signal(gen, "GFSK", sps, esn0_db, cfo=0.03, seed=11))
    assert e.kind == "constant_envelope"
    assert abs(e.symbol_rate * sps - 1) < 0.02


def test_noise_is_no_signal_and_bad_samples_do_not_break_it(gen):
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(1 << 16) + 1j * rng.standard_normal(1 << 16)).astype(np.complex64)
    e = est.estimate(noise)
    assert e.kind == "none" and e.symbol_rate is None
    x = signal(gen, "QPSK", 8, 20.0)
    x[100:200] = np.nan
    x[5000] = np.inf
    e = est.estimate(x)
    assert e.kind == "linear" and abs(e.symbol_rate * 8 - 1) < 1e-3
    with pytest.raises(ValueError, match="at least 4096"):
        est.estimate(x[:1000])


def test_two_signals_give_the_stronger_with_a_warning_and_an_edge_is_said(gen):
    strong = signal(gen, "QPSK", 8, 30.0, cfo=-0.2, seed=1)
    weak = 0.5 * signal(gen, "BPSK", 16, 30.0, cfo=0.25, seed=2)
    e = est.estimate(strong + weak)
    assert abs(e.symbol_rate * 8 - 1) < 1e-3 and abs(e.cfo + 0.2) < 0.005
    assert any("signals in the band" in w for w in e.warnings), e.warnings
    e = est.estimate(signal(gen, "QPSK", 2.5, 20.0, cfo=0.35, seed=4))
    assert any("band edge" in w for w in e.warnings), e.warnings


def test_amc_classify_finds_the_rate_of_a_recording_by_itself(root, gen, tmp_path):
    # QPSK at 5.5 samples per symbol, 3 % of the sample rate off centre: no --symbol-rate given
    path = tmp_path / "unknown.cf32"
    signal(gen, "QPSK", 5.5, 20.0, cfo=0.03, n=1 << 17, seed=9).tofile(path)
    r = subprocess.run([str(root / ".venv/bin/amc"), "classify", str(path), "--rate", "1e6", "--json"],
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["estimate"]["kind"] == "linear"
    assert report["estimate"]["symbol_rate_hz"] == pytest.approx(1e6 / 5.5, rel=1e-3)
    assert report["recording"]["resampled_by"] == pytest.approx(8 / 5.5, rel=1e-3)
    assert next(iter(report["summary"])) == "QPSK" and report["summary"]["QPSK"] > 0.9, report["summary"]
    assert report["segments"][-1]["end"] <= 1 << 17  # in the recording's samples


def test_the_estimator_block_tags_and_reports_as_the_stream_changes(gen):
    import pmt
    from gnuradio import amc, blocks, gr

    # QPSK at 5.5 sps, then GFSK at 12 sps; NaNs in the first
    x = np.concatenate(
        [signal(gen, "QPSK", 5.5, 20.0, 0.03, 1 << 17, 1), signal(gen, "GFSK", 12, 25.0, -0.01, 1 << 17, 2)]
    )
    x[1000:1100] = np.nan
    tb = gr.top_block()
    e = amc.signal_estimator(1e6, 65536, 32768)
    sink, msgs = blocks.vector_sink_c(), blocks.message_debug()
    tb.connect(blocks.vector_source_c(x.tolist()), e, sink)
    tb.msg_connect(e, "estimate", msgs, "store")
    tb.run()
    assert len(sink.data()) == len(x)  # every sample passed through
    found = [pmt.to_python(msgs.get_message(i)) for i in range(msgs.num_messages())]
    assert [d["offset"] for d in found] == [65535, 98303, 131071, 163839, 196607, 229375, 262143]
    assert found[1]["kind"] == "linear" and found[1]["symbol_rate_hz"] == pytest.approx(1e6 / 5.5, rel=1e-3)
    assert found[1]["cfo_hz"] == pytest.approx(30e3, abs=0.02 * 1e6 / 5.5)
    assert found[-1]["kind"] == "constant_envelope"
    assert found[-1]["symbol_rate_hz"] == pytest.approx(1e6 / 12, rel=0.02)
    keys = {pmt.symbol_to_string(t.key) for t in sink.tags()}
    assert keys == {"amc_signal", "amc_symbol_rate", "amc_cfo", "amc_bandwidth", "amc_snr"}
    for bad in ({"span": 100}, {"interval": -1}, {"samp_rate": float("nan")}, {"smooth": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            amc.signal_estimator(**bad)


def test_the_offline_estimate_is_the_blocks():
    from gnuradio import amc

    assert (est.MIN_SAMPLES, est.SPAN) == (amc.signal_estimator.min_samples, amc.signal_estimator.max_samples)
