# SPDX-License-Identifier: GPL-3.0-or-later
"""Frozen model bundles: what the GNU Radio classifier runs.

A bundle is a directory holding one LiteRT flatbuffer per input length and
`bundle.yaml`, the metadata: class names in order, the vectorizer parameters the
model expects (the same names as amc.vectorizer's), what it was trained on and how,
and its evaluation. Recurrent layers are exported unrolled with fixed shapes, the
form LiteRT runs (a dynamic RNN does not convert).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import yaml

from . import features, models
from ._version import __version__

FORMAT = 1
METADATA = "bundle.yaml"
RUNTIME = "litert"
DEFAULT_BATCH = 64
VARIABLE_LENGTHS = (64, 128, 256, 512, 1024)


def _unrolled(model):
    """A copy of `model` whose recurrent layers are unrolled (fixed-length loops)."""
    import keras

    def clone(layer):
        cfg = layer.get_config()
        if isinstance(layer, keras.layers.Bidirectional):
            for key in ("layer", "backward_layer"):
                if cfg.get(key):
                    cfg[key]["config"]["unroll"] = True
        elif isinstance(layer, keras.layers.RNN):
            cfg["unroll"] = True
        return layer.__class__.from_config(cfg)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def to_litert(model, shape: tuple[int, ...], batch: int = DEFAULT_BATCH) -> bytes:
    """Convert a Keras model to a LiteRT flatbuffer for inputs (batch, *shape)."""
    import tensorflow as tf

    fixed = _unrolled(model)
    with tempfile.TemporaryDirectory() as d:
        fixed.export(d, format="tf_saved_model", input_signature=[tf.TensorSpec([batch, *shape], tf.float32)],
                     verbose=False)  # fmt: skip
        return tf.lite.TFLiteConverter.from_saved_model(d).convert()


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(
    run_dir: str, out: str, batch: int = DEFAULT_BATCH, lengths=None, evaluation=None, force=False
) -> dict:
    """Write the bundle of a trained run (amc train's directory) to `out`, atomically."""
    import keras

    if os.path.exists(out) and not force:
        raise ValueError(f"out: {out} exists; allow overwriting it (--force)")
    with open(os.path.join(run_dir, "train.json")) as f:
        info = json.load(f)
    model = keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True)
    spec = features.VectorSpec(**info["spec"])
    if lengths is None:
        lengths = VARIABLE_LENGTHS if info["variable_length"] else (spec.window,)
    if not info["variable_length"] and tuple(lengths) != (spec.window,):
        raise ValueError(f"lengths: model {info['model']} takes only {spec.window}")
    parent = os.path.dirname(os.path.abspath(out))
    tmp = tempfile.mkdtemp(prefix=".bundle.", dir=parent)
    try:
        files = {}
        for n in lengths:
            s = dataclasses.replace(spec, window=n)
            fixed = model
            if info["variable_length"]:
                # unrolling needs a known length: the same weights in a fixed-length copy
                fixed = models.build(info["model"], len(info["classes"]), n)
                fixed.set_weights(model.get_weights())
            name = f"model_{n}.tflite"
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(to_litert(fixed, s.shape, batch))
            files[n] = {"file": name, "sha256": _sha256(os.path.join(tmp, name))}
        meta = {
            "format": FORMAT,
            "name": info["model"],
            "runtime": RUNTIME,
            "batch": batch,
            "classes": list(info["classes"]),
            "input": {
                "representation": spec.representation,
                "layout": spec.layout,
                "normalization": spec.normalization,
                "lengths": [int(n) for n in lengths],
                "files": {int(n): v for n, v in files.items()},
            },
            "trained_on": {
                "data": os.path.basename(info["data"]),
                "data_sha256": info["data_sha256"],
                "length": spec.window,
                **info.get("data_attrs", {}),
            },
            "training": {"command": info["command"], "seed": info["seed"], "params": info["params"]},
            "evaluation": evaluation or {},
            "generator": f"gr-amc {__version__}",
        }
        with open(os.path.join(tmp, METADATA), "w") as f:
            yaml.safe_dump(meta, f, sort_keys=False)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
        os.chmod(out, 0o755)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


class BundleError(ValueError):
    """A bundle that is missing, incomplete, inconsistent or unsafe."""


def _need(cond: bool, path: str, what: str):
    if not cond:
        raise BundleError(f"bundle {path}: {what}")


@dataclasses.dataclass
class Bundle:
    path: str
    meta: dict

    @property
    def classes(self) -> list[str]:
        return self.meta["classes"]

    @property
    def lengths(self) -> list[int]:
        return self.meta["input"]["lengths"]

    def spec(self, length: int) -> features.VectorSpec:
        i = self.meta["input"]
        return features.VectorSpec(length, i["representation"], i["layout"], i["normalization"])

    def runner(self, length: int, threads: int = 1) -> Runner:
        if length not in self.lengths:
            raise BundleError(f"bundle {self.path}: no model for length {length} (has {self.lengths})")
        entry = self.meta["input"]["files"][length]
        return Runner(
            os.path.join(self.path, entry["file"]), self.meta["batch"], self.spec(length).shape, threads
        )


def load(path: str) -> Bundle:
    """Read and check a bundle; raises BundleError naming what is wrong."""
    meta_path = os.path.join(path, METADATA)
    _need(os.path.isdir(path), path, "is not a directory")
    _need(os.path.isfile(meta_path), path, f"has no {METADATA}")
    try:
        with open(meta_path) as f:
            meta = yaml.safe_load(f)  # plain data only: no Python objects from YAML tags
    except yaml.YAMLError as e:
        raise BundleError(f"bundle {path}: {METADATA} is not plain YAML ({e})") from None
    _need(isinstance(meta, dict), path, f"{METADATA} is not a mapping")
    for key in ("format", "name", "runtime", "batch", "classes", "input"):
        _need(key in meta, path, f"{METADATA} lacks '{key}'")
    _need(meta["format"] == FORMAT, path, f"format {meta['format']!r} is not {FORMAT}")
    _need(meta["runtime"] == RUNTIME, path, f"runtime {meta['runtime']!r} is not {RUNTIME}")
    _need(isinstance(meta["batch"], int) and meta["batch"] >= 1, path, "batch must be a positive integer")
    classes = meta["classes"]
    _need(isinstance(classes, list) and len(classes) >= 2 and all(isinstance(c, str) for c in classes),
          path, "classes must be a list of at least two names")  # fmt: skip
    _need(len(set(classes)) == len(classes), path, "classes must not repeat")
    i = meta["input"]
    _need(isinstance(i, dict), path, "input must be a mapping")
    for key in ("representation", "layout", "normalization", "lengths", "files"):
        _need(key in i, path, f"input lacks '{key}'")
    _need(
        i["representation"] in features.REPRESENTATIONS,
        path,
        f"unknown representation {i['representation']!r}",
    )
    _need(i["layout"] in features.LAYOUTS, path, f"unknown layout {i['layout']!r}")
    _need(
        i["normalization"] in features.NORMALIZATIONS, path, f"unknown normalization {i['normalization']!r}"
    )
    _need(isinstance(i["lengths"], list) and i["lengths"], path, "input lengths must be a non-empty list")
    for n in i["lengths"]:
        _need(isinstance(n, int) and n >= features.MIN_WINDOW, path, f"bad input length {n!r}")
        entry = i["files"].get(n) if isinstance(i["files"], dict) else None
        _need(
            isinstance(entry, dict) and "file" in entry and "sha256" in entry, path, f"no file for length {n}"
        )
        name = entry["file"]
        _need(
            os.path.basename(name) == name and name.endswith(".tflite"), path, f"bad model file name {name!r}"
        )
        full = os.path.join(path, name)
        _need(os.path.isfile(full), path, f"model file {name} is missing")
        _need(_sha256(full) == entry["sha256"], path, f"model file {name} does not match its checksum")
    return Bundle(path, meta)


class Runner:
    """A LiteRT interpreter for one input length; predict() takes any number of vectors."""

    def __init__(self, model_path: str, batch: int, shape: tuple[int, ...], threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.batch, self.shape = batch, tuple(shape)
        self.interpreter = Interpreter(model_path=model_path, num_threads=threads)
        self.interpreter.allocate_tensors()
        self._in = self.interpreter.get_input_details()[0]["index"]
        self._out = self.interpreter.get_output_details()[0]["index"]
        self._buf = np.zeros((batch, *shape), np.float32)

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities (n, C) of float32 vectors (n, *shape)."""
        x = np.asarray(vectors, np.float32).reshape(-1, *self.shape)
        out = []
        for i in range(0, len(x), self.batch):
            part = x[i : i + self.batch]
            self._buf[: len(part)] = part
            self._buf[len(part) :] = 0
            self.interpreter.set_tensor(self._in, self._buf)
            self.interpreter.invoke()
            out.append(self.interpreter.get_tensor(self._out)[: len(part)].copy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
