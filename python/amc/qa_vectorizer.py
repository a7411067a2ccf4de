#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""QA of amc.vectorizer: the C++ block against the numpy reference, its tags,
its counters and its errors. Run by ctest against the build tree."""

import itertools

import numpy as np
import pmt
from gnuradio import amc, blocks, gr, gr_unittest

from gnuradio.amc.runtime import features

# |block - reference| <= TOL * max(1, largest |reference| of the vector): float32
# arithmetic in the block against float64 in numpy.
TOL = 1e-5


def random_stream(rng, n):
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * rng.uniform(0.1, 10)).astype(
        np.complex64
    )


def structured_stream(n_win, n):
    """Window-aligned segments that stress the transforms' corner cases."""
    t = np.arange(n)
    qpsk = np.repeat(np.exp(1j * (np.pi / 4 + np.pi / 2 * np.arange(n // 8 + 1))), 8)[:n]
    segments = [
        np.exp(2j * np.pi * 0.05 * t),  # tone
        np.exp(1j * np.pi * 0.002 * t**2),  # chirp
        np.full(n, 3 + 3j),  # constant
        qpsk * 2.0,  # rectangular QPSK
        np.sign(np.sin(0.3 * t + 0.1)) + 0j,  # real: phase on the branch cut (+pi)
        1e-20 * np.exp(2j * np.pi * 0.11 * t),  # energy underflows float32
        1e20 * np.exp(2j * np.pi * 0.13 * t),  # energy overflows float32
        np.zeros(n),  # silent
        np.where(t == n // 3, np.nan, 1.0) + 0j,  # one NaN
        np.where(t == 5, np.inf, 1j),  # one Inf
    ]
    return np.concatenate([segments[i % len(segments)] for i in range(n_win)]).astype(np.complex64)


def run_block(stream, spec, hop, tags=()):
    """stream -> vectorizer -> sink; returns (vectors, tags as (offset, key, value), block)."""
    tb = gr.top_block()
    src = blocks.vector_source_c(stream.tolist(), False, 1, list(tags))
    blk = amc.vectorizer(
        spec.window, hop, spec.representation, spec.layout, spec.normalization, spec.fft_size, spec.fft_avg
    )
    sink = blocks.vector_sink_f(blk.vlen())
    tb.connect(src, blk, sink)
    tb.run()
    vectors = np.array(sink.data(), dtype=np.float32).reshape(-1, *spec.shape)
    out_tags = [(t.offset, pmt.symbol_to_string(t.key), pmt.to_python(t.value)) for t in sink.tags()]
    return vectors, out_tags, blk


def all_specs(window):
    for layout, norm in itertools.product(features.LAYOUTS, features.NORMALIZATIONS):
        yield features.VectorSpec(window, "iq", layout, norm)
        yield features.VectorSpec(window, "amp_phase", layout, norm)
    for norm, avg in itertools.product(features.NORMALIZATIONS, (1, 4)):
        yield features.VectorSpec(window, "mag_fft", "channels_last", norm, 0, avg)


def make_tag(offset, key, value):
    tag = gr.tag_t()
    tag.offset = offset
    tag.key = pmt.intern(key)
    tag.value = pmt.to_pmt(value)
    tag.srcid = pmt.intern("qa")
    return tag


class qa_vectorizer(gr_unittest.TestCase):
    def assert_matches_reference(self, stream, spec, hop):
        got, tags, blk = run_block(stream, spec, hop)
        ref, flags, starts = features.vectorize(stream, spec, hop)
        label = f"{spec} hop={hop}"
        self.assertEqual(got.shape, ref.shape, label)
        flat = ref.reshape(len(ref), -1)
        scale = np.maximum(1.0, np.abs(flat).max(axis=1, initial=0.0))
        err = np.abs(got.reshape(flat.shape).astype(np.float64) - flat) / scale[:, None]
        self.assertLessEqual(err.max(initial=0.0), TOL, label)
        window_tags = [v for _, k, v in tags if k == "amc_window"]
        self.assertEqual(window_tags, starts.tolist(), label)
        flag_tags = {off: v for off, k, v in tags if k == "amc_flag"}
        expected = {i: f for i, f in enumerate(flags) if f != features.OK}
        self.assertEqual(flag_tags, expected, label)
        self.assertEqual(blk.windows_out(), len(ref))
        self.assertEqual(blk.nonfinite_windows(), int(np.sum(flags == features.NONFINITE)))
        self.assertEqual(blk.silent_windows(), int(np.sum(flags == features.SILENT)))
        return flags

    def test_001_random_input_every_transform(self):
        rng = np.random.default_rng(1)
        for window in (128, 1024):
            stream = random_stream(rng, 12 * window + 37)
            for spec in all_specs(window):
                self.assert_matches_reference(stream, spec, window)

    def test_002_structured_input_every_transform(self):
        for window in (128, 1024):
            stream = structured_stream(10, window)
            for spec in all_specs(window):
                flags = self.assert_matches_reference(stream, spec, window)
                # The silent, NaN and Inf segments are flagged, the others are not.
                self.assertEqual(list(flags[7:10]), [features.SILENT, features.NONFINITE, features.NONFINITE])
                self.assertTrue(all(f == features.OK for f in flags[:7]))

    def test_003_overlap_and_decimation(self):
        rng = np.random.default_rng(2)
        stream = np.concatenate([random_stream(rng, 3000), structured_stream(10, 128)])
        for hop in (1, 37, 64, 128, 200, 1000):
            for spec in (
                features.VectorSpec(128, "iq", "channels_first", "l2"),
                features.VectorSpec(128, "mag_fft", "channels_last", "rms", 32, 4),
            ):
                self.assert_matches_reference(stream, spec, hop)

    def test_004_windows_longer_than_a_stream_buffer(self):
        # Windows above 2048 samples are assembled across calls of general_work.
        rng = np.random.default_rng(3)
        stream = random_stream(rng, 40000)
        stream[9000:9010] = np.nan
        stream[20000:26000] = 0
        for hop in (1000, 5000, 7000):
            self.assert_matches_reference(
                stream, features.VectorSpec(5000, "iq", "channels_last", "peak"), hop
            )
        self.assert_matches_reference(
            stream, features.VectorSpec(4096, "amp_phase", "channels_first", "none"), 4096
        )

    def test_005_upstream_tags_move_once_to_their_window(self):
        n = 128
        stream = random_stream(np.random.default_rng(4), 20 * n)
        offsets = [0, 1, 127, 128, 200, 700, 1000, 1999, 2300, len(stream) - 1]
        for hop in (n, 64, 300):
            tags = [make_tag(o, "rx_time", o) for o in offsets]
            spec = features.VectorSpec(n)
            _, out, _ = run_block(stream, spec, hop, tags)
            n_vec = len(features.window_starts(len(stream), n, hop))
            span = min(hop, n)
            expected = []
            for o in offsets:
                k = 0 if o < span else (o - span) // hop + 1
                if k < n_vec:
                    expected.append((k, o))
            moved = [(off, v) for off, k, v in out if k == "rx_time"]
            self.assertEqual(moved, expected, f"hop={hop}")

    def test_006_nan_and_silence_bursts_keep_the_flowgraph_running(self):
        rng = np.random.default_rng(5)
        n = 128
        stream = random_stream(rng, 400 * n)
        for start in rng.integers(0, len(stream) - 50, 30):
            stream[start : start + rng.integers(1, 50)] = rng.choice([np.nan, np.inf, -np.inf, 0])
        stream[100 * n : 110 * n] = 0
        spec = features.VectorSpec(n, "amp_phase")
        got, tags, blk = run_block(stream, spec, 96)
        ref, flags, _ = features.vectorize(stream, spec, 96)
        self.assertEqual(blk.windows_out(), len(ref))
        self.assertGreater(blk.nonfinite_windows(), 0)
        self.assertGreaterEqual(blk.silent_windows(), 10)
        self.assertTrue(np.all(np.isfinite(got)))
        self.assertTrue(np.all(got[flags != features.OK] == 0))
        np.testing.assert_allclose(got, ref, rtol=TOL, atol=TOL)

    def test_007_bad_parameters_fail_at_construction(self):
        cases = [
            (dict(window=15, hop=15), "window"),
            (dict(window=128, hop=0), "hop"),
            (dict(window=128, hop=128, representation="polar"), "representation"),
            (dict(window=128, hop=128, layout="NCHW"), "layout"),
            (dict(window=128, hop=128, normalization="max"), "normalization"),
            (dict(window=128, hop=128, representation="mag_fft", fft_size=100), "fft_size"),
            (dict(window=128, hop=128, representation="mag_fft", fft_avg=3), "fft_size"),
            (dict(window=128, hop=128, representation="mag_fft", fft_avg=0), "fft_avg"),
        ]
        for kwargs, param in cases:
            with self.assertRaises(ValueError, msg=str(kwargs)) as ctx:
                amc.vectorizer(**kwargs)
            self.assertIn(param, str(ctx.exception))
            with self.assertRaises(ValueError):
                kw = dict(kwargs)
                hop = kw.pop("hop")
                features.VectorSpec(**kw)
                features.window_starts(1000, kw["window"], hop)
        with self.assertRaises(ValueError) as ctx:
            amc.vectorizer(128, 128, "iq", "channels_last", "max")
        self.assertIn("none, l2, rms, peak, l1", str(ctx.exception))

    def test_008_block_and_reference_accept_the_same_names(self):
        for repr_, layout, norm in itertools.product(
            features.REPRESENTATIONS, features.LAYOUTS, features.NORMALIZATIONS
        ):
            spec = features.VectorSpec(64, repr_, layout, norm)
            blk = amc.vectorizer(64, 64, repr_, layout, norm)
            self.assertEqual(blk.vlen(), spec.vlen)
            self.assertEqual((blk.window(), blk.hop()), (64, 64))

    def test_009_power_tags_give_window_power_in_db(self):
        rng = np.random.default_rng(9)
        stream = random_stream(rng, 20 * 128)
        stream[5 * 128 : 6 * 128] *= 1e-3  # 60 dB down
        stream[8 * 128 : 9 * 128] = 0  # silent: flagged, no power
        tb = gr.top_block()
        blk = amc.vectorizer(128, 128, "iq", "channels_last", "rms", power_tags=True)
        sink = blocks.vector_sink_f(256)
        tb.connect(blocks.vector_source_c(stream.tolist()), blk, sink)
        tb.run()
        power = {
            t.offset: pmt.to_double(t.value)
            for t in sink.tags()
            if pmt.symbol_to_string(t.key) == "amc_power"
        }
        self.assertTrue(blk.power_tags())
        self.assertEqual(sorted(power), [i for i in range(20) if i != 8])
        for i, db in power.items():
            w = stream[i * 128 : (i + 1) * 128]
            self.assertAlmostEqual(db, 10 * np.log10(np.mean(np.abs(w) ** 2)), places=4)
        self.assertLess(power[5], power[4] - 50)


if __name__ == "__main__":
    gr_unittest.run(qa_vectorizer)
