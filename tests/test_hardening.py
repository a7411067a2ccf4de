# SPDX-License-Identifier: GPL-3.0-or-later
"""Defects found by probing gr-amc with hostile input, each with the check that keeps it fixed
(the fuzz suite, tests/test_fuzz.py, keeps the general properties)."""

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from gnuradio import amc, blocks, gr

from gnuradio.amc.runtime import features

AMC = [sys.executable, "-m", "gnuradio.amc"]


def amc_cli(*args, **kw):
    return subprocess.run([*AMC, *map(str, args)], capture_output=True, text=True, timeout=300, **kw)


def vectorize(x, window=128, **kw):
    tb = gr.top_block()
    vec = amc.vectorizer(
        window, window, kw.get("representation", "iq"), "channels_last", kw.get("norm", "l2")
    )
    sink = blocks.vector_sink_f(vec.vlen())
    tb.connect(blocks.vector_source_c(np.asarray(x, np.complex64).tolist()), vec, sink)
    tb.run()
    return np.array(sink.data()).reshape(-1, vec.vlen()), vec


@pytest.mark.parametrize("norm", features.NORMALIZATIONS)
@pytest.mark.parametrize(
    "window",
    [np.full(128, 1e-41 + 1e-41j), np.r_[np.zeros(127), 1.4e-45], np.r_[np.zeros(127), 3.4e38]],
    ids=["subnormals", "lone-subnormal", "near-FLT_MAX"],
)
def test_1_extreme_samples_give_finite_or_flagged_vectors_like_the_reference(window, norm):
    for representation in ("iq", "amp_phase"):
        out, vec = vectorize(window, norm=norm, representation=representation)
        ref, flags = features.transform(
            window[None], features.VectorSpec(128, representation, "channels_last", norm)
        )
        assert np.isfinite(out).all()
        assert (vec.nonfinite_windows() == 1) == (flags[0] == features.NONFINITE)
        np.testing.assert_allclose(out, ref.reshape(1, -1), rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_3_sigterm_during_generation_leaves_no_file_and_no_worker(tmp_path):
    out = tmp_path / "big.h5"
    args = [
        "dataset",
        "generate",
        "--preset",
        "rml2016.10a",
        "--per",
        "400",
        "--jobs",
        "2",
        "--out",
        out,
        "--quiet",
    ]
    p = subprocess.Popen([*AMC, *map(str, args)], start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".big.h5.*.partial")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(tmp_path.glob(".big.h5.*.partial")), "generation never started writing"
    time.sleep(2)  # workers busy
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    deadline = time.monotonic() + 15
    while (group := _alive_in_group(p.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {pid: open(f"/proc/{pid}/cmdline", "rb").read()[:200] for pid in group}
    assert not group, f"processes left in the group: {left}"
    assert not list(tmp_path.iterdir()), list(tmp_path.iterdir())
    assert p.returncode == 130 and "amc: interrupted (SIGTERM)" in p.stderr.read()


def _alive_in_group(pgid: int) -> list[str]:
    """Processes of a process group that still run (zombies are dead: their parent left)."""
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if (
                os.getpgid(int(pid)) == pgid
                and open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
            ):
                alive.append(pid)
        except OSError:
            pass
    return alive


def test_7_per_zero_is_refused(tmp_path):
    r = amc_cli("dataset", "generate", "--per", "0", "--out", tmp_path / "x.pkl")
    assert r.returncode == 2 and "per 0 must be >= 1" in r.stderr


def test_9_mismatched_windows_are_in_the_identity():
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(128 * 20) + 1j * rng.standard_normal(128 * 20)).astype(np.complex64)
    tb = gr.top_block()
    vec = amc.vectorizer(128, 128, "iq", "channels_last", "l2")  # the model takes rms
    clf = amc.classifier("default", 128, "iq", "channels_last", "rms")
    tb.connect(blocks.vector_source_c(x.tolist()), vec, clf, blocks.null_sink(gr.sizeof_float * 11))
    tb.run()
    assert clf.windows() == 20 == clf.mismatched()
    assert (
        clf.windows() == clf.classified() + clf.nonfinite() + clf.silent() + clf.dropped() + clf.mismatched()
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: amc.classifier("default", threads=1.5), "threads 1.5 must be an integer"),
        (lambda: amc.classifier("default", max_backlog=2.5), "max_backlog 2.5 must be an integer"),
        (lambda: amc.classifier("default", samp_rate=float("inf")), "samp_rate inf must be a finite number"),
        (lambda: amc.vectorizer(2**30, 1), "window 1073741824 is too long; window must be <= 1048576"),
        (lambda: amc.decision(["a", "b"], k=2**31 - 1), "k 2147483647 must be in 1 .. 65536"),
    ],
)
def test_10_bad_parameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_10_vectors_not_from_a_vectorizer_get_no_label():
    tb = gr.top_block()
    rows = np.concatenate([np.zeros((5, 256)), np.full((5, 256), 1e30)]).astype(np.float32)
    clf = amc.classifier("default", 128, "iq", "channels_last", "rms", outputs="index")
    sink = blocks.vector_sink_i()
    tb.connect(blocks.vector_source_f(rows.ravel().tolist(), False, 256), clf, sink)
    tb.run()
    assert list(sink.data()) == [-1] * 10
    assert (clf.silent(), clf.mismatched(), clf.classified()) == (5, 5, 0)


def test_10_decision_refuses_probabilities_outside_0_1():
    rows = np.tile(np.array([[5.0, 0.0, 0.0]], np.float32), (10, 1))
    tb = gr.top_block()
    dec = amc.decision(["a", "b", "c"], smoothing="none")
    sink = blocks.vector_sink_f(3)
    tb.connect(blocks.vector_source_f(rows.ravel().tolist(), False, 3), dec, sink)
    tb.run()
    assert dec.skipped_windows() == 10 and dec.confidence() <= 1.0 and dec.label() == "unknown"


def sigmf(tmp_path, name, glob, annotations=()):
    (tmp_path / f"{name}.sigmf-data").write_bytes(np.zeros(2048, np.complex64).tobytes())
    (tmp_path / f"{name}.sigmf-meta").write_text(
        json.dumps({"global": glob, "captures": [], "annotations": list(annotations)})
    )
    return tmp_path / f"{name}.sigmf-meta"


def test_5_6_bad_recordings_end_in_amc_error(tmp_path):
    cases = {
        sigmf(tmp_path, "a", {"core:datatype": ["cf32_le"]}): "core:datatype",
        sigmf(tmp_path, "b", {"core:datatype": "cf32_le", "core:sample_rate": "1e6"}): "core:sample_rate",
        sigmf(
            tmp_path, "c", {"core:datatype": "cf32_le"}, annotations=[1, "x"]
        ): "annotations must be a list of objects",
    }
    wav = tmp_path / "short_fmt.wav"
    body = b"WAVE" + b"fmt " + struct.pack("<I", 2) + b"\x01\x00"
    wav.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    cases[wav] = "fmt chunk of 2 bytes"
    npy = tmp_path / "huge.npy"
    header = "{'descr': '<c8', 'fortran_order': False, 'shape': (100000000000,), }".ljust(117) + "\n"
    npy.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(16))
    cases[npy] = r"declares shape \(100000000000,\)"
    for name, size in (("empty", 0), ("seven", 7)):
        (tmp_path / f"{name}.cf32").write_bytes(bytes(size))
        cases[tmp_path / f"{name}.cf32"] = "less than one complex sample"
    (tmp_path / "folder.cf32").mkdir()
    cases[tmp_path / "folder.cf32"] = "is a directory"
    for path, message in cases.items():
        r = amc_cli("classify", path)
        assert r.returncode == 2, (path, r.stderr[-2000:])
        assert "Traceback" not in r.stderr and "amc: error:" in r.stderr, r.stderr[-2000:]
        assert re.search(message, r.stderr), (message, r.stderr[-500:])


def test_6_a_partial_last_sample_is_warned_about(tmp_path):
    path = tmp_path / "odd.cf32"
    path.write_bytes(np.ones(1023, np.complex64).tobytes() + bytes(5))
    r = amc_cli("classify", path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "8189 bytes is not a whole number of 8-byte samples; the last 5 bytes are ignored" in r.stderr
