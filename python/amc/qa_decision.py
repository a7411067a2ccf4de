#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""QA of amc.decision: smoothing, hysteresis, unknown, noise gate, skipped windows,
tags at the window offsets, messages and their rate limit, parameter errors."""

import time

import numpy as np
import pmt
from gnuradio import amc, blocks, gr, gr_unittest

CLASSES = ["BPSK", "QPSK", "8PSK"]


def onehot(seq, p=0.9):
    """Probability vectors that favour the classes of `seq` with probability p."""
    out = np.full((len(seq), len(CLASSES)), (1 - p) / (len(CLASSES) - 1), np.float32)
    out[np.arange(len(seq)), seq] = p
    return out


def tag(offset, key, value):
    t = gr.tag_t()
    t.offset, t.key, t.value = offset, pmt.intern(key), value
    return t


class SlowSource(gr.sync_block):
    """One vector per work() call, `pause` seconds apart."""

    def __init__(self, rows, pause):
        gr.sync_block.__init__(self, "slow", None, [(np.float32, rows.shape[1])])
        self.rows, self.pause, self.i = rows, pause, 0

    def work(self, input_items, output_items):
        if self.i == len(self.rows):
            return -1
        time.sleep(self.pause)
        output_items[0][0] = self.rows[self.i]
        self.i += 1
        return 1


def run(probs, tags=(), **kwargs):
    tb = gr.top_block()
    src = blocks.vector_source_f(probs.ravel().tolist(), False, len(CLASSES), list(tags))
    dec = amc.decision(CLASSES, **kwargs)
    sink = blocks.vector_sink_f(len(CLASSES))
    msgs = blocks.message_debug()
    tb.connect(src, dec, sink)
    tb.msg_connect(dec, "decision", msgs, "store")
    tb.run()
    out = np.array(sink.data()).reshape(-1, len(CLASSES))
    decisions = [
        (t.offset, pmt.to_python(t.value))
        for t in sink.tags()
        if pmt.symbol_to_string(t.key) == "amc_decision"
    ]
    messages = [pmt.to_python(msgs.get_message(i)) for i in range(msgs.num_messages())]
    return out, decisions, messages, dec


class qa_decision(gr_unittest.TestCase):
    def test_001_moving_average_is_the_mean_of_k(self):
        probs = np.random.default_rng(0).dirichlet(np.ones(3), 50).astype(np.float32)
        out, *_ = run(probs, smoothing="moving_average", k=4)
        for i in range(50):
            np.testing.assert_allclose(out[i], probs[max(0, i - 3) : i + 1].mean(axis=0), atol=1e-6)

    def test_002_exponential_weights_the_newest_2_over_k_plus_1(self):
        probs = np.random.default_rng(1).dirichlet(np.ones(3), 20).astype(np.float32)
        out, *_ = run(probs, smoothing="exponential", k=3)
        ref = probs[0].copy()
        for i in range(1, 20):
            ref += 0.5 * (probs[i] - ref)
            np.testing.assert_allclose(out[i], ref, atol=1e-6)

    def test_002b_geometric_is_the_normalised_geometric_mean_of_k(self):
        probs = np.random.default_rng(2).dirichlet(np.ones(3), 50).astype(np.float32)
        probs[7] = [0.0, 0.5, 0.5]  # a zero is floored (1e-6), not a veto for k windows
        out, *_ = run(probs, smoothing="geometric", k=4)
        for i in range(50):
            g = np.exp(np.log(np.maximum(probs[max(0, i - 3) : i + 1], 1e-6)).mean(axis=0))
            np.testing.assert_allclose(out[i], g / g.sum(), atol=1e-5)
        # a class likely in every window beats one that is very likely now and then,
        # which the mean prefers
        steady = np.tile([[0.45, 0.1, 0.45]], (8, 1))
        steady[::2] = [0.3, 0.69, 0.01]
        steady = steady.astype(np.float32)
        mean, *_ = run(steady, smoothing="moving_average", k=8)
        geo, *_ = run(steady, smoothing="geometric", k=8)
        self.assertEqual(int(np.argmax(geo[-1])), 0)
        self.assertNotEqual(int(np.argmax(mean[-1])), 0)

    def test_003_a_change_is_tagged_once_at_the_window_offset(self):
        seq = [0] * 20 + [1] * 20
        windows = [tag(i, "amc_window", pmt.from_uint64(1000 + 128 * i)) for i in range(40)]
        _, decisions, messages, dec = run(onehot(seq), windows, k=4, max_rate=0)
        self.assertEqual([d["label"] for _, d in decisions], ["BPSK", "QPSK"])
        self.assertEqual(decisions[0][0], 3)  # once the 4-window average is full
        # 4-window average: QPSK wins by more than the hysteresis at the 3rd QPSK window
        self.assertEqual(decisions[1][0], 22)
        self.assertEqual(decisions[1][1]["offset"], 1000 + 128 * 22)
        self.assertEqual([m["label"] for m in messages], ["BPSK", "QPSK"])
        self.assertEqual(messages[-1]["windows"], 23)
        self.assertEqual((dec.decisions(), dec.windows_seen(), dec.label()), (2, 40, "QPSK"))
        self.assertAlmostEqual(dec.confidence(), 0.9, places=5)

    def test_004_hysteresis_keeps_a_close_call(self):
        # alternate 0.48 / 0.52 between two classes: no flapping once decided
        probs = np.zeros((40, 3), np.float32)
        probs[:, 0] = np.where(np.arange(40) % 2, 0.52, 0.46)
        probs[:, 1] = 1 - probs[:, 0] - 0.02
        probs[:, 2] = 0.02
        _, decisions, _, _ = run(probs, smoothing="none", threshold=0.4, hysteresis=0.1)
        self.assertEqual(len(decisions), 1)
        _, decisions, _, _ = run(probs, smoothing="none", threshold=0.4, hysteresis=0.0)
        self.assertGreater(len(decisions), 30)

    def test_005_low_confidence_is_unknown(self):
        probs = np.full((10, 3), 1 / 3, np.float32)
        _, decisions, _, dec = run(probs, threshold=0.5)
        self.assertEqual(decisions, [])  # never left unknown
        self.assertEqual((dec.label(), dec.unknown_windows()), ("unknown", 10))
        _, decisions, _, _ = run(np.concatenate([onehot([2] * 10), probs]), k=1, threshold=0.5)
        self.assertEqual(
            [(o, d["label"], d["index"]) for o, d in decisions], [(0, "8PSK", 2), (10, "unknown", -1)]
        )

    def test_006_energy_gate_reports_noise(self):
        seq = [0] * 30
        power = [tag(i, "amc_power", pmt.from_double(-80.0 if 10 <= i < 20 else -10.0)) for i in range(30)]
        _, decisions, _, dec = run(onehot(seq), power, energy_gate=True, noise_db=-50, k=2)
        # k = 2: each decision after a start or the noise waits for 2 windows
        self.assertEqual([(o, d["label"]) for o, d in decisions], [(1, "BPSK"), (10, "noise"), (21, "BPSK")])
        self.assertEqual(dec.noise_windows(), 11)  # window 20 too: BPSK is back at 21
        _, decisions, _, _ = run(onehot(seq), power, energy_gate=False)
        self.assertEqual(len(decisions), 1)

    def test_007_flagged_zero_and_nonfinite_windows_are_skipped(self):
        probs = onehot([1] * 12)
        probs[3] = 0.0
        probs[5, 0] = np.nan
        probs[7, 2] = np.inf
        flags = [tag(9, "amc_flag", pmt.intern("silent"))]
        out, decisions, _, dec = run(probs, flags, smoothing="none")
        self.assertEqual(dec.skipped_windows(), 4)
        self.assertEqual(dec.windows_seen(), 12)
        self.assertTrue(np.all(np.isfinite(out)))
        self.assertEqual([d["label"] for _, d in decisions], ["QPSK"])

    def test_008_report_every_and_rate_limit(self):
        probs = onehot([0] * 100)
        _, _, messages, _ = run(probs, report_every=10, max_rate=0)
        self.assertEqual(len(messages), 10)  # the first change (k = 8 windows in), then every 10
        self.assertEqual([m["windows"] for m in messages], [8, 18, 28, 38, 48, 58, 68, 78, 88, 98])
        _, _, messages, dec = run(probs, report_every=1, max_rate=0.001)
        # the first, and the last one held back, sent at stop(); GNU Radio hands a message
        # sent at stop() only to a receiver that has not yet finished, which is a race
        # (the first report, at window 1, says "unknown": no decision yet)
        self.assertEqual(messages[0]["label"], "unknown")
        self.assertEqual(dec.suppressed_messages(), 99)
        self.assertEqual(dec.messages(), 2)
        self.assertIn([m["windows"] for m in messages], ([1], [1, 100]))

    def test_009_the_last_word_is_sent_after_the_rate_limit(self):
        # flip-flopping faster than the limit: the state after the last flip still goes out
        seq = [0, 1, 0, 1, 0, 1] + [1] * 10
        tb = gr.top_block()
        src = SlowSource(onehot(seq), 0.01)  # 10 ms between windows, 50 ms allowed
        dec = amc.decision(CLASSES, smoothing="none", hysteresis=0.0, max_rate=20)
        msgs = blocks.message_debug()
        tb.connect(src, dec, blocks.null_sink(gr.sizeof_float * 3))
        tb.msg_connect(dec, "decision", msgs, "store")
        tb.run()
        labels = [pmt.to_python(msgs.get_message(i))["label"] for i in range(msgs.num_messages())]
        self.assertEqual(dec.decisions(), 6)
        self.assertLess(len(labels), 6)
        self.assertGreater(dec.suppressed_messages(), 0)
        self.assertEqual((labels[0], labels[-1]), ("BPSK", "QPSK"))

    def test_010_bad_parameters_name_themselves(self):
        for kwargs, word in [
            (dict(classes=["A"]), "classes"),
            (dict(classes=["A", "A"]), "classes"),
            (dict(classes=["A", "noise"]), "classes"),
            (dict(classes=CLASSES, smoothing="median"), "smoothing"),
            (dict(classes=CLASSES, k=0), "k"),
            (dict(classes=CLASSES, threshold=1.5), "threshold"),
            (dict(classes=CLASSES, hysteresis=1.0), "hysteresis"),
            (dict(classes=CLASSES, report_every=-1), "report_every"),
            (dict(classes=CLASSES, max_rate=-1), "max_rate"),
        ]:
            with self.assertRaisesRegex(ValueError, word):
                amc.decision(**kwargs)

    def test_020_settings_change_while_running(self):
        dec = amc.decision(CLASSES, k=4, threshold=0.5, hysteresis=0.1, max_rate=10)
        dec.set_threshold(0.8)
        dec.set_hysteresis(0.2)
        dec.set_k(16)
        dec.set_max_rate(0)
        self.assertAlmostEqual(dec.threshold(), 0.8, places=6)
        self.assertAlmostEqual(dec.hysteresis(), 0.2, places=6)
        self.assertEqual((dec.k(), dec.max_rate()), (16, 0.0))
        bad_values = ((dec.set_threshold, 1.5, "threshold"), (dec.set_hysteresis, 1.0, "hysteresis"),
                      (dec.set_k, 0, "k"), (dec.set_max_rate, -1.0, "max_rate"))  # fmt: skip
        for setter, bad, name in bad_values:
            with self.assertRaisesRegex(ValueError, name):
                setter(bad)
        self.assertEqual(dec.k(), 16)  # a refused value changes nothing

    def test_021_a_new_threshold_applies_to_the_next_window(self):
        # 0.6 for class 0: decided at threshold 0.5, unknown once the threshold is raised
        probs = np.tile(np.array([[0.6, 0.2, 0.2]], np.float32), (40, 1))
        tb = gr.top_block()
        src = SlowSource(probs, 0.002)
        dec = amc.decision(CLASSES, smoothing="none", threshold=0.5, hysteresis=0.0)
        sink = blocks.vector_sink_f(len(CLASSES))
        tb.connect(src, dec, sink)
        tb.start()
        while dec.windows_seen() < 10:
            time.sleep(0.001)
        dec.set_threshold(0.9)
        tb.wait()
        labels = [
            pmt.to_python(t.value)["label"]
            for t in sink.tags()
            if pmt.symbol_to_string(t.key) == "amc_decision"
        ]
        self.assertEqual(labels, ["BPSK", "unknown"])

    def test_022_k_is_bounded(self):
        with self.assertRaisesRegex(ValueError, "k 2147483647 must be in 1 .. 65536"):
            amc.decision(CLASSES, k=2**31 - 1)

    def test_023_vectors_that_are_not_probabilities_are_skipped(self):
        probs = onehot([0] * 10)
        probs[3] = [5.0, 0.0, 0.0]  # an entry above 1
        probs[4] = [0.5, 0.1, 0.1]  # does not sum to 1
        probs[5] = [1.5, -0.5, 0.0]  # sums to 1, entries outside [0, 1]
        out, decisions, messages, dec = run(probs, smoothing="none")
        self.assertEqual(dec.skipped_windows(), 3)
        self.assertTrue(all(0.0 <= m["confidence"] <= 1.0 for m in messages))
        self.assertTrue(np.all(out <= 1.0))

    def test_024_no_decision_before_the_smoothing_window_is_full(self):
        # a confidently wrong first window (a start-up transient) cannot decide alone
        probs = onehot([2] + [0] * 20, p=0.99)
        _, decisions, _, _ = run(probs, k=8, max_rate=0)
        self.assertEqual([(o, d["label"]) for o, d in decisions], [(7, "BPSK")])
        _, decisions, _, _ = run(onehot([1] * 7), k=8, max_rate=0)
        self.assertEqual(decisions, [])  # never full: no decision at all

    def test_025_a_gap_restarts_the_smoothing_and_a_retune_forgets_the_decision(self):
        seq = [0] * 10 + [1] * 30
        flags = [tag(12, "amc_flag", pmt.intern("dropped"))]
        _, decisions, _, _ = run(onehot(seq), flags, k=4, hysteresis=0.0, max_rate=0)
        # BPSK at 3, given up at 11; the gap at 12 restarts the average: QPSK from 13..16
        # (without the restart, 10, 11 and 13 would make QPSK at 13)
        self.assertEqual(
            [(o, d["label"]) for o, d in decisions], [(3, "BPSK"), (11, "unknown"), (16, "QPSK")]
        )
        retune = [tag(20, "rx_freq", pmt.from_double(101e6))]
        _, decisions, _, _ = run(onehot([0] * 40), retune, k=4, max_rate=0)
        self.assertEqual(
            [(o, d["label"]) for o, d in decisions], [(3, "BPSK"), (20, "unknown"), (23, "BPSK")]
        )
        start = [tag(20, "rx_time", pmt.make_tuple(pmt.from_uint64(1), pmt.from_double(0.0)))]
        out, decisions, _, _ = run(onehot([0] * 40), start, k=4, max_rate=0)
        self.assertEqual([(o, d["label"]) for o, d in decisions], [(3, "BPSK")])  # kept across
        np.testing.assert_allclose(out[20], onehot([0])[0], atol=1e-6)  # but not averaged across


if __name__ == "__main__":
    gr_unittest.run(qa_decision)
