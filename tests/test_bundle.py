# SPDX-License-Identifier: GPL-3.0-or-later
"""Frozen bundles: every zoo model exports to LiteRT and gives Keras's probabilities;
loading refuses incomplete, inconsistent and unsafe bundles."""

import hashlib
import shutil

import numpy as np
import pytest
import yaml
from conftest import fake_run

from gnuradio.amc.ml import export, models
from gnuradio.amc.runtime import bundle

TOLERANCE = 1e-5  # |LiteRT - Keras| per probability


@pytest.mark.parametrize("name", list(models.MODELS))
def test_exported_model_matches_keras(name, tmp_path):
    lengths = (64, 128) if models.MODELS[name].variable_length else None
    run, model = fake_run(tmp_path, name)
    out = tmp_path / "bundle"
    meta = export.export(str(run), str(out), batch=16, lengths=lengths)
    b = bundle.load(str(out))
    assert b.classes == meta["classes"] and b.lengths == list(lengths or (128,))
    for n in b.lengths:
        spec = b.spec(n)
        x = (
            np.random.default_rng(n).standard_normal((37, *spec.shape)).astype(np.float32)
        )  # not a batch multiple
        got = b.runner(n).predict(x)
        np.testing.assert_allclose(got, np.asarray(model(x)), atol=TOLERANCE)
    if models.MODELS[name].variable_length:  # unrolled recurrent graphs ship gzipped
        assert all(e["file"].endswith(".tflite.gz") for e in meta["input"]["files"].values())
    runtime = sum(p.stat().st_size for p in out.glob("*.tflite*"))  # what the blocks load
    assert runtime < 5 * 2**20 or name == "cnn2"


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("b")
    run, _ = fake_run(tmp, "pet_cgdnn")
    out = tmp / "bundle"
    export.export(str(run), str(out), batch=8)
    return out


def broken(good, tmp_path, edit):
    copy = tmp_path / "broken"
    shutil.copytree(good, copy)
    meta = yaml.safe_load((copy / "bundle.yaml").read_text())
    edit(meta, copy)
    (copy / "bundle.yaml").write_text(yaml.safe_dump(meta))
    return str(copy)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m, d: m.pop("classes"), "lacks 'classes'"),
        (lambda m, d: m["input"].update(representation="polar"), "unknown representation"),
        (lambda m, d: m["input"].update(normalization="max"), "unknown normalization"),
        (lambda m, d: m.update(runtime="onnx"), "runtime"),
        (lambda m, d: m.update(classes=["a"]), "at least two"),
        (lambda m, d: (d / m["input"]["files"][128]["file"]).write_bytes(b"\0" * 100), "checksum"),
        (lambda m, d: (d / m["input"]["files"][128]["file"]).unlink(), "missing"),
        (lambda m, d: m["input"]["files"][128].update(file="../../etc/passwd"), "bad model file name"),
        (lambda m, d: m["input"].update(lengths=[128, 256]), "no file for length 256"),
    ],
)
def test_bad_bundles_are_refused_with_the_reason(good_bundle, tmp_path, edit, message):
    with pytest.raises(bundle.BundleError, match=message):
        bundle.load(broken(good_bundle, tmp_path, edit))


def test_a_corrupt_compressed_model_is_refused(good_bundle, tmp_path):
    def junk(meta, d):
        entry = meta["input"]["files"][128]
        assert entry["file"].endswith(".gz")  # PET-CGDNN's unrolled GRU ships gzipped
        (d / entry["file"]).write_bytes(b"not gzip")
        entry["sha256"] = hashlib.sha256(b"not gzip").hexdigest()

    with pytest.raises(bundle.BundleError, match="not valid gzip"):
        bundle.load(broken(good_bundle, tmp_path, junk)).runner(128)


def test_yaml_with_python_objects_is_refused(good_bundle, tmp_path):
    copy = tmp_path / "evil"
    shutil.copytree(good_bundle, copy)
    (copy / "bundle.yaml").write_text("!!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(bundle.BundleError, match="not plain YAML"):
        bundle.load(str(copy))
    with pytest.raises(bundle.BundleError, match="no bundle.yaml"):
        bundle.load(str(tmp_path))


def test_export_refuses_to_overwrite(good_bundle, tmp_path):
    run, _ = fake_run(tmp_path, "gru2")
    with pytest.raises(ValueError, match="exists"):
        export.export(str(run), str(good_bundle))
