# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.classifier in flowgraphs: the bundle's probabilities for every window, batched
model calls, tags and messages, refused mismatches, and every window accounted for
when samples are bad or the classifier falls behind."""

import numpy as np
import pmt
import pytest
from conftest import fake_run
from gnuradio import amc, blocks, gr

from gnuradio.amc.ml import export
from gnuradio.amc.runtime import bundle, features

CLASSES = ["BPSK", "QPSK", "8PSK", "QAM16"]
N = 128


@pytest.fixture(scope="module")
def vgg_bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clf")
    run, _ = fake_run(tmp, "vgg_cnn", window=N, classes=CLASSES)
    out = tmp / "bundle"
    export.export(str(run), str(out), batch=32)
    return str(out)


def stream(n_windows, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n_windows * N) + 1j * rng.standard_normal(n_windows * N)).astype(np.complex64)


def run_chain(x, model, tags=(), **kwargs):
    """source -> vectorizer -> classifier (both outputs) -> sinks, messages stored."""
    tb = gr.top_block()
    vec = amc.vectorizer(N, N, "iq", "channels_last", "rms")
    clf = amc.classifier(model, N, "iq", "channels_last", "rms", outputs="both", **kwargs)
    probs, index, msgs = blocks.vector_sink_f(len(CLASSES)), blocks.vector_sink_i(), blocks.message_debug()
    tb.connect(blocks.vector_source_c(x.tolist(), False, 1, list(tags)), vec, clf)
    tb.connect((clf, 0), probs)
    tb.connect((clf, 1), index)
    tb.msg_connect(clf, "classification", msgs, "store")
    tb.run()
    messages = [pmt.to_python(msgs.get_message(i)) for i in range(msgs.num_messages())]
    return (
        np.array(probs.data()).reshape(-1, len(CLASSES)),
        np.array(index.data()),
        probs.tags(),
        messages,
        vec,
        clf,
    )


def test_every_window_gets_the_bundles_probabilities(vgg_bundle):
    x = stream(300)
    probs, index, tags, messages, _, clf = run_chain(x, vgg_bundle)
    b = bundle.load(vgg_bundle)
    ref_vectors, _, starts = features.vectorize(x, b.spec(N), N)
    ref = b.runner(N).predict(ref_vectors)
    assert probs.shape == (300, len(CLASSES))
    np.testing.assert_allclose(probs, ref, atol=1e-5)
    assert np.array_equal(index, ref.argmax(axis=1))
    assert clf.windows() == clf.classified() == 300
    # a tag on every output item, carrying the window's first sample
    cls_tags = sorted(
        (t.offset, pmt.to_python(t.value)) for t in tags if pmt.symbol_to_string(t.key) == "amc_class"
    )
    assert [o for o, _ in cls_tags] == list(range(300))
    assert [v["offset"] for _, v in cls_tags] == list(starts)
    assert all(v["label"] == CLASSES[i] for (_, v), i in zip(cls_tags, index, strict=True))
    # and a message per window
    assert len(messages) == 300
    m = messages[7]
    assert set(m) == {"label", "index", "confidence", "probabilities", "offset", "model"}
    assert (m["label"], m["index"], m["offset"], m["model"]) == (
        CLASSES[index[7]],
        index[7],
        7 * N,
        "vgg_cnn",
    )
    assert m["confidence"] == pytest.approx(float(ref[7].max()), abs=1e-5)
    np.testing.assert_allclose(m["probabilities"], ref[7], atol=1e-5)


def test_windows_are_batched(vgg_bundle):
    tb = gr.top_block()
    clf = amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms")
    calls = []
    predict = clf.runner.predict
    clf.runner.predict = lambda v: calls.append(len(v)) or predict(v)
    # unit mean power, as the vectorizer's rms normalization makes them
    src = blocks.vector_source_f(np.full(2000 * 2 * N, np.sqrt(0.5), np.float32).tolist(), False, 2 * N)
    tb.connect(src, clf, blocks.null_sink(gr.sizeof_float * len(CLASSES)))
    tb.run()
    assert sum(calls) == 2000
    assert len(calls) < 2000 / 8  # many windows per model call


def test_time_comes_from_rx_time(vgg_bundle):
    rx = gr.tag_t()
    rx.offset, rx.key = 0, pmt.intern("rx_time")
    rx.value = pmt.make_tuple(pmt.from_uint64(1700000000), pmt.from_double(0.25))
    *_, messages, _, _ = run_chain(stream(20), vgg_bundle, [rx], samp_rate=1e6)
    assert [m["time"] for m in messages] == pytest.approx([1700000000.25 + i * N / 1e6 for i in range(20)])
    *_, messages, _, _ = run_chain(stream(5), vgg_bundle)
    assert "time" not in messages[0]


def test_tensorflow_backend_agrees_with_litert(vgg_bundle):
    x = stream(64, seed=3)
    lite, *_ = run_chain(x, vgg_bundle)
    tf_probs, *_ = run_chain(x, vgg_bundle, backend="tensorflow")
    np.testing.assert_allclose(tf_probs, lite, atol=1e-5)


def test_bad_samples_never_crash_and_every_window_is_accounted_for(vgg_bundle):
    x = stream(200, seed=4)
    x[10 * N + 5] = np.nan
    x[20 * N : 20 * N + 3] = np.inf
    x[30 * N : 33 * N] = 0  # 3 silent windows
    x[50 * N + 7 : 50 * N + 9] = 1e30  # huge but finite: classified
    probs, index, _, messages, vec, clf = run_chain(x, vgg_bundle)
    assert np.all(np.isfinite(probs))
    assert (clf.nonfinite(), clf.silent()) == (vec.nonfinite_windows(), vec.silent_windows()) == (2, 3)
    assert clf.windows() == clf.classified() + clf.nonfinite() + clf.silent() == 200
    assert set(np.flatnonzero(index < 0)) == {10, 20, 30, 31, 32}
    assert not probs[[10, 20, 30]].any()
    labels = {m["offset"] // N: m["label"] for m in messages}
    assert (labels[10], labels[20], labels[31]) == ("nonfinite", "nonfinite", "silent")
    assert labels[50] in CLASSES


def test_a_backlog_beyond_the_limit_is_dropped_and_counted(vgg_bundle):
    tb = gr.top_block()
    windows = np.random.default_rng(5).standard_normal((1000, N, 2)) @ np.array([1, 1j])
    vectors, _ = features.transform(windows, features.VectorSpec(N, "iq", "channels_last", "rms"))
    src = blocks.vector_source_f(vectors.ravel().tolist(), False, 2 * N)
    clf = amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms", outputs="index", max_backlog=8)
    sink = blocks.vector_sink_i()
    tb.connect(src, clf, sink)
    tb.run()
    index = np.array(sink.data())
    assert len(index) == 1000  # one output per window, dropped ones included
    assert clf.dropped() > 0
    assert clf.classified() + clf.dropped() == clf.windows() == 1000
    assert np.sum(index < 0) == clf.dropped()
    flagged = [t.offset for t in sink.tags() if pmt.symbol_to_string(t.key) == "amc_flag"]
    assert sorted(flagged) == list(np.flatnonzero(index < 0))


def test_messages_only_is_a_sink(vgg_bundle):
    tb = gr.top_block()
    vec = amc.vectorizer(N, N, "iq", "channels_last", "rms")
    clf = amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms", outputs="messages")
    msgs = blocks.message_debug()
    tb.connect(blocks.vector_source_c(stream(10).tolist()), vec, clf)
    tb.msg_connect(clf, "classification", msgs, "store")
    tb.run()
    assert msgs.num_messages() == 10


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(representation="amp_phase"), "representation 'amp_phase' does not match"),
        (dict(layout="channels_first"), "layout"),
        (dict(normalization="l2"), "normalization 'l2' does not match"),
        (dict(window=256), "window 256 does not match"),
        (dict(outputs="labels"), "outputs"),
        (dict(threads=0), "threads"),
        (dict(max_backlog=-1), "max_backlog"),
        (dict(backend="onnx"), "backend"),
    ],
)
def test_mismatches_are_refused_at_construction(vgg_bundle, kwargs, word):
    args = dict(model=vgg_bundle, window=N, representation="iq", layout="channels_last", normalization="rms")
    with pytest.raises(ValueError, match=word):
        amc.classifier(**{**args, **kwargs})


def test_missing_and_corrupt_bundles_are_refused(vgg_bundle, tmp_path):
    with pytest.raises(ValueError, match="neither a shipped model .* nor a bundle directory"):
        amc.classifier("no_such_model")
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(vgg_bundle, bad)
    (bad / "model_128.tflite").write_bytes(b"TFL3" + b"\0" * 64)
    with pytest.raises(ValueError, match="checksum"):
        amc.classifier(str(bad), N, "iq", "channels_last", "rms")


def test_decision_reads_the_window_offsets_through_the_classifier(vgg_bundle):
    tb = gr.top_block()
    x = stream(40, seed=6)
    vec = amc.vectorizer(N, N, "iq", "channels_last", "rms")
    clf = amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms")
    dec = amc.decision(clf.classes, threshold=0.0, max_rate=0)
    sink = blocks.vector_sink_f(len(CLASSES))
    tb.connect(blocks.vector_source_c(x.tolist()), vec, clf, dec, sink)
    tb.run()
    first = [pmt.to_python(t.value) for t in sink.tags() if pmt.symbol_to_string(t.key) == "amc_decision"][0]
    # the first decision once the 8-window average is full: at window 7, whose first sample is 7 N
    assert first["offset"] == 7 * N and first["label"] in CLASSES
    assert dec.windows_seen() == 40


def test_vectors_made_for_another_model_are_refused_at_run_time(vgg_bundle):
    # the classifier is told rms (as its model), the vectorizer upstream makes l2:
    # its amc_spec tag gives it away, and nothing is classified as garbage
    tb = gr.top_block()
    vec = amc.vectorizer(N, N, "iq", "channels_last", "l2")
    clf = amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms", outputs="index")
    sink = blocks.vector_sink_i()
    tb.connect(blocks.vector_source_c(stream(30).tolist()), vec, clf, sink)
    tb.run()
    assert clf.mismatched() == clf.windows() == 30 and clf.classified() == 0
    assert set(sink.data()) == {-1}


def test_windows_within_the_filters_transient_are_flagged_settling(vgg_bundle):
    # settle 300 samples: windows starting at 0, 128 and 256 are transients after the start;
    # an rx_freq tag (a retune) at sample 20 N starts another 300
    retune = gr.tag_t()
    retune.offset, retune.key, retune.value = 20 * N, pmt.intern("rx_freq"), pmt.from_double(1e8)
    tb = gr.top_block()
    vec = amc.vectorizer(N, N, "iq", "channels_last", "rms")
    clf = amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms", outputs="index", settle=300)
    sink = blocks.vector_sink_i()
    tb.connect(blocks.vector_source_c(stream(40, seed=2).tolist(), False, 1, [retune]), vec, clf, sink)
    tb.run()
    index = np.array(sink.data())
    flagged = sorted(t.offset for t in sink.tags() if pmt.symbol_to_string(t.key) == "amc_flag")
    assert flagged == [0, 1, 2, 20, 21, 22] and clf.settling() == 6
    assert np.all(index[flagged] == -1) and np.all(np.delete(index, flagged) >= 0)
    assert clf.windows() == clf.classified() + clf.settling() == 40
    with pytest.raises(ValueError, match="settle"):
        amc.classifier(vgg_bundle, N, "iq", "channels_last", "rms", settle=-1)
