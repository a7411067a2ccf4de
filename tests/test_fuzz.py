# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based fuzzing (Hypothesis): hostile sample streams through vectorizer ->
classifier -> decision never crash and keep every documented identity; mutated bundles and
recordings end in a clear error naming the problem. Derandomized with a fixed example budget,
so CI runs the same examples every time in bounded time."""

import json
import os
import re
import shutil
import struct

import numpy as np
import pmt
import pytest
import yaml
from gnuradio import amc, blocks, gr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnuradio.amc.runtime import bundle, features, recordings

FUZZ = settings(
    max_examples=40, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip

HOSTILE = [np.nan, np.inf, -np.inf, 0.0, 1e-45, 1e-41, 1e-38, 1e38, 3.4e38, -3.4e38, 1e-20, 1e20]


@st.composite
def streams(draw, max_len=4096):
    """A complex64 stream: noise with runs of NaN, Inf, zeros, subnormals and extremes."""
    n = draw(st.integers(0, max_len))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * draw(
        st.sampled_from([1e-30, 1e-3, 1.0, 1e30])
    )
    for _ in range(draw(st.integers(0, 6))):
        if n == 0:
            break
        start = draw(st.integers(0, n - 1))
        length = draw(st.integers(1, 300))
        re, im = draw(st.sampled_from(HOSTILE)), draw(st.sampled_from(HOSTILE))
        x[start : start + length] = complex(re, im)
    return x.astype(np.complex64)


def expected_windows(n: int, window: int, hop: int) -> int:
    return 0 if n < window else (n - window) // hop + 1  # README: floor((n - N) / hop) + 1


@FUZZ
@given(x=streams(), window=st.integers(16, 300), hop=st.integers(1, 400),
       representation=st.sampled_from(["iq", "amp_phase"]), layout=st.sampled_from(features.LAYOUTS),
       normalization=st.sampled_from(features.NORMALIZATIONS))  # fmt: skip
def test_vectorizer_outputs_are_finite_or_flagged_and_counted(
    x, window, hop, representation, layout, normalization
):
    tb = gr.top_block()
    vec = amc.vectorizer(window, hop, representation, layout, normalization)
    sink = blocks.vector_sink_f(vec.vlen())
    tb.connect(blocks.vector_source_c(x.tolist()), vec, sink)
    tb.run()
    out = np.array(sink.data(), np.float32).reshape(-1, vec.vlen())
    assert len(out) == vec.windows_out() == expected_windows(len(x), window, hop)
    assert np.isfinite(out).all()
    flagged = {t.offset: str(t.value) for t in sink.tags() if str(t.key) == "amc_flag"}
    assert sum(v == "nonfinite" for v in flagged.values()) == vec.nonfinite_windows()
    assert sum(v == "silent" for v in flagged.values()) == vec.silent_windows()
    for i in flagged:
        assert not out[i].any()  # flagged windows are zeros


@pytest.fixture(scope="module")
def default_bundle():
    return bundle.load("default")


@FUZZ
@given(x=streams(max_len=128 * 40), hop=st.sampled_from([64, 128, 200]), backlog=st.sampled_from([0, 3]))
def test_the_chain_never_crashes_and_accounts_for_every_window(default_bundle, x, hop, backlog):
    b = default_bundle
    i = b.meta["input"]
    tb = gr.top_block()
    vec = amc.vectorizer(128, hop, i["representation"], i["layout"], i["normalization"])
    clf = amc.classifier(
        "default", 128, i["representation"], i["layout"], i["normalization"], max_backlog=backlog
    )
    dec = amc.decision(b.classes, max_rate=0)
    msgs = blocks.message_debug()
    sink = blocks.vector_sink_f(len(b.classes))
    tb.connect(blocks.vector_source_c(x.tolist()), vec, clf, dec, sink)
    tb.msg_connect(dec, "decision", msgs, "store")
    tb.run()
    n = expected_windows(len(x), 128, hop)
    assert vec.windows_out() == clf.windows() == dec.windows_seen() == n
    assert clf.windows() == (clf.classified() + clf.nonfinite() + clf.silent() + clf.dropped()
                             + clf.mismatched() + clf.other_flagged())  # fmt: skip
    assert clf.nonfinite() == vec.nonfinite_windows() and clf.silent() == vec.silent_windows()
    out = np.array(sink.data()).reshape(-1, len(b.classes))
    assert len(out) == n and np.isfinite(out).all() and (out >= 0).all() and (out <= 1 + 1e-6).all()
    for k in range(msgs.num_messages()):
        assert 0.0 <= pmt.to_python(msgs.get_message(k))["confidence"] <= 1.0


# ------------------------------------------------------------------------------- bundles

MUTATIONS = {
    "drop_key": lambda m, v: m.pop(v % 2 and "batch" or "classes"),
    "classes_fewer": lambda m, v: m.update(classes=m["classes"][: 2 + v % 8]),
    "classes_more": lambda m, v: m.update(classes=m["classes"] + [f"extra{k}" for k in range(1 + v % 3)]),
    "classes_repeat": lambda m, v: m.update(classes=[m["classes"][0]] * len(m["classes"])),
    "length": lambda m, v: m["input"].update(
        lengths=[[64, 256, 1024][v % 3]], files={[64, 256, 1024][v % 3]: m["input"]["files"][128]}
    ),
    "format": lambda m, v: m.update(format=[True, 2, "1", None][v % 4]),
    "batch": lambda m, v: m.update(batch=[True, 0, -5, 2.5, "256"][v % 5]),
    "representation": lambda m, v: m["input"].update(representation=["mag_fft", "x", 3][v % 3]),
    "normalization": lambda m, v: m["input"].update(normalization=["l3", None][v % 2]),
    "checksum": lambda m, v: m["input"]["files"][128].update(sha256="0" * 64),
    "file_name": lambda m, v: m["input"]["files"][128].update(
        file=["../model_128.tflite", "/etc/passwd", 5][v % 3]
    ),
    "runtime": lambda m, v: m.update(runtime="onnx"),
}


@FUZZ
@given(kind=st.sampled_from(sorted(MUTATIONS)), value=st.integers(0, 1000))
def test_mutated_bundles_are_refused_with_a_reason(tmp_path_factory, kind, value):
    path = tmp_path_factory.mktemp("b") / "bundle"
    shutil.copytree(bundle.resolve("default"), path)
    meta = yaml.safe_load((path / bundle.METADATA).read_text())
    MUTATIONS[kind](meta, value)
    (path / bundle.METADATA).write_text(yaml.safe_dump(meta))
    with pytest.raises(bundle.BundleError, match=re.escape(str(path))):
        amc.classifier(str(path), 128, "iq", "channels_last", "rms")


@pytest.mark.parametrize("change, window, message", [
    (lambda m: m.update(classes=m["classes"][:10]), 128, "lists 10 classes, but model .* gives 11"),
    (lambda m: m.update(classes=m["classes"] + ["OFDM"]), 128, "lists 12 classes, but model .* gives 11"),
    (lambda m: m["input"].update(lengths=[256], files={256: m["input"]["files"][128]}), 256,
     r"says length 256 .* but model model_128.tflite takes \(128, 2\)"),
])  # fmt: skip
def test_metadata_that_contradicts_the_model_is_refused_at_construction(tmp_path, change, window, message):
    path = tmp_path / "bundle"
    shutil.copytree(bundle.resolve("default"), path)
    meta = yaml.safe_load((path / bundle.METADATA).read_text())
    change(meta)
    (path / bundle.METADATA).write_text(yaml.safe_dump(meta))
    for backend in ("litert", "tensorflow"):
        with pytest.raises(bundle.BundleError, match=message.replace("model_128.tflite", ".*")):
            amc.classifier(str(path), window, "iq", "channels_last", "rms", backend=backend)


def test_links_out_of_a_bundle_are_refused(tmp_path):
    path = tmp_path / "bundle"
    shutil.copytree(bundle.resolve("default"), path)
    outside = tmp_path / "elsewhere.tflite"
    shutil.move(path / "model_128.tflite", outside)
    os.symlink(outside, path / "model_128.tflite")
    with pytest.raises(bundle.BundleError, match="link to a file outside the bundle"):
        bundle.load(str(path))
    linked = tmp_path / "linked"
    shutil.copytree(bundle.resolve("default"), linked)
    shutil.move(linked / bundle.METADATA, tmp_path / "meta.yaml")
    os.symlink(tmp_path / "meta.yaml", linked / bundle.METADATA)
    with pytest.raises(bundle.BundleError, match="symbolic link"):
        bundle.load(str(linked))


def test_shipped_names_win_over_a_local_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").mkdir()
    (tmp_path / bundle.DEFAULT).mkdir()
    assert bundle.load("default").path == bundle.load(bundle.DEFAULT).path == bundle.resolve("default")
    assert os.path.dirname(bundle.resolve("default")) == bundle.SHIPPED_DIR
    with pytest.raises(bundle.BundleError, match="has no bundle.yaml"):
        bundle.load("./default")  # a path with a / means the directory


# ---------------------------------------------------------------------------- recordings


def wav(fmt_size: int, channels: int, bits: int, payload: bytes) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, 1000, 1000 * channels * bits // 8, channels * bits // 8, bits)
    fmt = (fmt + b"\0" * 16)[:fmt_size]
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(payload))
        + payload
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


@FUZZ
@given(kind=st.sampled_from(["cf32", "wav", "npy", "sigmf"]), data=st.binary(max_size=300),
       size=st.integers(0, 40), junk=st.sampled_from([None, [1], "x", 5.5, {"a": 1}, -3, True]))  # fmt: skip
def test_mutated_recordings_read_or_fail_clearly(tmp_path_factory, kind, data, size, junk):
    d = tmp_path_factory.mktemp("r")
    if kind == "cf32":
        path = d / "x.cf32"
        path.write_bytes(data[:size])
    elif kind == "wav":
        path = d / "x.wav"
        path.write_bytes(wav(size % 20, 1 + size % 3, [8, 16, 24, 32][size % 4], data))
    elif kind == "npy":
        path = d / "x.npy"
        header = f"{{'descr': '<c8', 'fortran_order': False, 'shape': ({10 ** (size % 13)},), }}"
        header = header.ljust(118) + "\n"
        path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)
    else:
        path = d / "x.sigmf-meta"
        (d / "x.sigmf-data").write_bytes(data)
        glob = {
            "core:datatype": "cf32_le" if size % 2 else junk,
            "core:sample_rate": junk if size % 3 else 1e6,
        }
        meta = {"global": glob, "annotations": junk if size % 5 == 0 else []}
        path.write_text(json.dumps(meta))
    try:
        rec = recordings.read(str(path))
    except ValueError as e:
        assert str(path.name) in str(e) or str(d) in str(e)
        return
    assert rec.samples.dtype == np.complex64 and rec.samples.size >= 1
    assert rec.samp_rate is None or rec.samp_rate > 0
