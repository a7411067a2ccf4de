# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.normalizer and the blind AMC Classify: signals at rates and carriers the user does
not know come out at the model's samples per symbol, centred, and are labelled."""

from __future__ import annotations

import numpy as np
import pmt
import pytest
from gnuradio import amc, analog, blocks, gr
from gnuradio import filter as grf

from gnuradio.amc.blocks.modulation_source import modulation_source
from gnuradio.amc.runtime import estimate

FS = 1e6


def signal(tb, modulation, sps, cfo, n, seed=3, noise=0.05):
    """modulation at `sps` samples per symbol (resampled from 8), shifted by cfo cycles/sample."""
    src = modulation_source(modulation, 8, 0.35, seed)
    rs = grf.pfb.arb_resampler_ccf(sps / 8, [], 32, 100)
    rot = blocks.rotator_cc(2 * np.pi * cfo)
    add = blocks.add_cc()
    tb.connect(src, rs, rot, (add, 0))
    tb.connect(analog.noise_source_c(analog.GR_GAUSSIAN, noise, seed), (add, 1))
    head = blocks.head(gr.sizeof_gr_complex, n)
    tb.connect(add, head)
    return head


def retunes(sink):
    return [
        (t.offset, pmt.to_python(t.value)) for t in sink.tags() if pmt.symbol_to_string(t.key) == "amc_retune"
    ]


@pytest.mark.parametrize("sps, cfo", [(3.0, 0.1), (5.5, -0.05), (12.0, 0.02)])
def test_a_given_signal_leaves_centred_at_8_samples_per_symbol(sps, cfo):
    tb = gr.top_block()
    n = 200_000
    norm = amc.normalizer(FS, 8, FS / sps, cfo * FS)
    sink = blocks.vector_sink_c()
    tb.connect(signal(tb, "QPSK", sps, cfo, n), norm, sink)
    tb.run()
    y = np.array(sink.data(), np.complex64)
    assert len(y) == pytest.approx(n * 8 / sps, rel=0.01)  # every input sample became output
    e = estimate.estimate(y[2000:])
    assert e.kind == "linear" and e.sps() == pytest.approx(8, rel=1e-3) and abs(e.cfo) < 1e-3
    assert e.bandwidth < 1.5 / 8  # filtered to the signal's band (1.35 / 8 for roll-off 0.35)
    ((offset, tag),) = retunes(sink)
    assert offset == 0 and tag["ratio"] == pytest.approx(8 / sps) and tag["settle"] > 0


def test_a_new_rate_starts_a_new_chain_and_loses_no_sample():
    tb = gr.top_block()
    a, b = 150_000, 150_000
    cat = blocks.stream_mux(gr.sizeof_gr_complex, [a, b])
    tb.connect(signal(tb, "BPSK", 4, 0.0, a), (cat, 0))
    tb.connect(signal(tb, "BPSK", 12, 0.0, b, seed=5), (cat, 1))
    est = amc.signal_estimator(FS, 32768, 32768, 1)
    norm = amc.normalizer(FS, 8)
    sink = blocks.vector_sink_c()
    tb.connect(cat, est, norm, sink)
    tb.msg_connect(est, "estimate", norm, "estimate")
    tb.run()
    tags = retunes(sink)
    assert [round(t["ratio"], 2) for _, t in tags][:2] == [2.0, 0.67], tags
    # idle (zeros at 1/16) until the first estimate, then 2x until the switch, then 2/3
    first, second = tags[0][1]["input_offset"], tags[1][1]["input_offset"]
    assert 0 < first <= 2 * 32768 and a - 32768 <= second <= a + 2 * 32768  # when the estimates came
    expected = first / 16 + (second - first) * 2 + (a + b - second) * 8 / 12
    assert len(sink.data()) == pytest.approx(expected, rel=0.01)
    assert norm.retunes() == 2 and norm.idle_samples() == first
    y = np.array(sink.data(), np.complex64)[tags[1][0] + tags[1][1]["settle"] :]
    assert estimate.estimate(y).sps() == pytest.approx(8, rel=2e-3)


def test_noise_alone_is_not_classified():
    tb = gr.top_block()
    n = 300_000
    src = analog.noise_source_c(analog.GR_GAUSSIAN, 1.0, 7)
    head = blocks.head(gr.sizeof_gr_complex, n)
    c = amc.classify("default", FS, 0.0)
    tb.connect(src, head, c, blocks.null_sink(gr.sizeof_float * len(c.classes)))
    tb.run()
    cl = c.classifier
    assert c.label() == "unknown" and cl.classified() == 0 and cl.windows() == cl.silent() > 0
    assert c.normalizer.idle_samples() == n


@pytest.mark.parametrize(
    "modulation, sps, cfo", [("QPSK", 5.5, 0.05), ("BPSK", 16, -0.1), ("CPFSK", 5, 0.03)]
)
def test_blind_classify_labels_signals_at_rates_it_was_not_told(modulation, sps, cfo):
    tb = gr.top_block()
    c = amc.classify("default", FS, 0.0)
    tb.connect(
        signal(tb, modulation, sps, cfo, 400_000), c, blocks.null_sink(gr.sizeof_float * len(c.classes))
    )
    tb.run()
    assert c.label() == modulation
    assert c.normalizer.symbol_rate() == pytest.approx(FS / sps, rel=2e-3)
    cl = c.classifier
    assert cl.windows() == cl.classified() + cl.silent() + cl.settling() + cl.nonfinite()


def test_non_finite_bursts_are_flagged_and_the_stream_goes_on():
    x = (np.random.default_rng(1).standard_normal(100_000) * (1 + 1j)).astype(np.complex64)
    x[40_000:40_100] = np.nan
    x[60_000] = np.inf
    tb = gr.top_block()
    norm = amc.normalizer(FS, 8, FS / 4)
    sink = blocks.vector_sink_c()
    tb.connect(blocks.vector_source_c(x.tolist()), norm, sink)
    tb.run()
    y = np.array(sink.data())
    assert len(y) == pytest.approx(2 * len(x), rel=0.01)
    bad = ~np.isfinite(y)
    assert 0 < bad.sum() < 0.2 * len(y) and np.isfinite(y[-20_000:]).all()  # it recovers


@pytest.mark.parametrize(
    "args, name",
    [((0.0,), "samp_rate"), ((FS, 1.0), "out_sps"), ((FS, 8, FS), "symbol_rate"), ((FS, 8, 1e3, FS), "cfo"),
     ((FS, 8, 0.0, 0.0, 0.5), "tolerance"), ((FS, 8, FS / 10_000), "symbol_rate")],
)  # fmt: skip
def test_wrong_parameters_fail_at_construction_naming_them(args, name):
    with pytest.raises(ValueError, match=name):
        amc.normalizer(*args)


def test_a_bad_estimate_message_is_logged_and_left():
    norm = amc.normalizer(FS, 8, FS / 8)
    norm.to_basic_block()._post(pmt.intern("estimate"), pmt.intern("nonsense"))
    assert norm.symbol_rate() == FS / 8


def test_constant_envelope_signals_keep_their_wider_band():
    def edge_share(wide):
        """Share of the power between 0.75 and 1.0 symbol rates off the carrier."""
        tb = gr.top_block()
        norm = amc.normalizer(FS, 8, FS / 8, 0.0, 0.005, wide)
        sink = blocks.vector_sink_c()
        tb.connect(signal(tb, "CPFSK", 8, 0.0, 100_000, noise=0.0), norm, sink)
        tb.run()
        y = np.array(sink.data())[5000 : 5000 + 64 * 1024].reshape(64, 1024)
        assert np.isfinite(y).all()  # the resampler's kernels read before an unaligned buffer
        psd = np.mean(np.abs(np.fft.fft(y * np.hanning(1024), axis=1)) ** 2, axis=0)
        f = np.abs(np.fft.fftfreq(1024)) * 8  # in symbol rates at 8 samples per symbol
        return psd[(f > 0.75) & (f < 1.0)].sum() / psd.sum()

    narrow, wide = edge_share(False), edge_share(True)
    assert wide > 4 * narrow, (narrow, wide)  # MSK's main lobe reaches 0.75 symbol rates
