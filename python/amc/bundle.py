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
import gzip
import hashlib
import json
import os
import shutil
import tempfile

import numpy as np
import yaml

from . import features
from ._version import __version__

FORMAT = 1
METADATA = "bundle.yaml"
RUNTIME = "litert"
DEFAULT_BATCH = 256  # most vectors per model call
VARIABLE_LENGTHS = (64, 128, 256, 512, 1024)
KERAS_FILE = "model.keras"  # the float model, for the TensorFlow backend
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundles")
DEFAULT = "rml2016_vgg128"  # what "default" names


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


QUANTIZATIONS = ("none", "int8", "int8-weights")
QUANTIZATION_NAMES = {
    "none": "none (float32)",
    "int8": "int8 (post-training)",
    "int8-weights": "int8 weights, float activations (post-training)",
}


def to_litert(model, shape: tuple[int, ...], quantization: str = "none", calibration=None) -> bytes:
    """Convert a Keras model to a LiteRT flatbuffer for inputs (any batch, *shape).

    Post-training quantisation (004, section VI-E): "int8" quantises weights and
    activations, their ranges calibrated on `calibration` (vectors (k, *shape));
    "int8-weights" only the weights (activations stay float: recurrent state keeps
    its precision). Inputs and outputs stay float, so the blocks use either unchanged.
    """
    import tensorflow as tf

    fixed = _unrolled(model)
    with tempfile.TemporaryDirectory() as d:
        fixed.export(d, format="tf_saved_model", input_signature=[tf.TensorSpec([None, *shape], tf.float32)],
                     verbose=False)  # fmt: skip
        converter = tf.lite.TFLiteConverter.from_saved_model(d)
        if quantization != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "int8":
            converter.representative_dataset = lambda: ([v[None]] for v in calibration.astype(np.float32))
        return converter.convert()


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(
    run_dir: str,
    out: str,
    batch: int = DEFAULT_BATCH,
    lengths=None,
    evaluation=None,
    force=False,
    quantization: str = "none",
    int8_calibration: dict | None = None,
) -> dict:
    """Write the bundle of a trained run (amc train's directory) to `out`, atomically.
    quantization: one of QUANTIZATIONS (see to_litert); "int8" needs int8_calibration,
    {length: vectors}."""
    import keras

    from . import models

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization: {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
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
    if quantization == "int8" and not all(len((int8_calibration or {}).get(n, ())) for n in lengths):
        raise ValueError("int8_calibration: int8 quantisation needs calibration vectors for every length")
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
            flat = to_litert(fixed, s.shape, quantization, (int8_calibration or {}).get(n))
            # Unrolled recurrent graphs repeat one step's ops per sample: gzip halves them
            # (weights alone barely compress, so convolutional models stay plain).
            packed = gzip.compress(flat, 9, mtime=0)
            name = f"model_{n}.tflite"
            if len(packed) < 0.75 * len(flat):
                name, flat = name + ".gz", packed
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(flat)
            files[n] = {"file": name, "sha256": _sha256(os.path.join(tmp, name))}
        # the weights without the optimizer's state: a third of the size
        # (a fresh build: a clone of a compiled model can keep the optimizer's variables)
        bare = models.build(
            info["model"], len(info["classes"]), None if info["variable_length"] else spec.window
        )
        bare.set_weights(model.get_weights())
        bare.save(os.path.join(tmp, KERAS_FILE))
        meta = {
            "format": FORMAT,
            "name": info["model"],
            "runtime": RUNTIME,
            "quantization": QUANTIZATION_NAMES[quantization],
            "batch": batch,
            "classes": list(info["classes"]),
            "input": {
                "representation": spec.representation,
                "layout": spec.layout,
                "normalization": spec.normalization,
                "lengths": [int(n) for n in lengths],
                "files": {int(n): v for n, v in files.items()},
            },
            "keras": {"file": KERAS_FILE, "sha256": _sha256(os.path.join(tmp, KERAS_FILE))},
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


BACKENDS = ("litert", "tensorflow")


@dataclasses.dataclass
class Bundle:
    path: str
    meta: dict

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def classes(self) -> list[str]:
        return self.meta["classes"]

    @property
    def lengths(self) -> list[int]:
        return self.meta["input"]["lengths"]

    @property
    def sps(self) -> int:
        """Samples per symbol to feed it: the one trained on (the highest of several)."""
        sps = self.meta.get("trained_on", {}).get("sps", 8)
        return int(max(sps) if isinstance(sps, list) else sps)

    def spec(self, length: int) -> features.VectorSpec:
        i = self.meta["input"]
        return features.VectorSpec(length, i["representation"], i["layout"], i["normalization"])

    def check_input(self, window: int, representation: str, layout: str, normalization: str) -> None:
        """Refuse vectors the model was not trained on, naming the parameter that differs."""
        i = self.meta["input"]
        for param, given in (("representation", representation), ("layout", layout),
                             ("normalization", normalization)):  # fmt: skip
            if given != i[param]:
                raise BundleError(
                    f"{param} {given!r} does not match model {self.name} ({self.path}), "
                    f"which takes {param} {i[param]!r}: set the vectorizer and classifier to it"
                )
        if window not in self.lengths:
            raise BundleError(
                f"window {window} does not match model {self.name} ({self.path}), "
                f"which takes {' or '.join(map(str, self.lengths))} samples"
            )

    def runner(self, length: int, threads: int = 1, backend: str = "litert"):
        """A predictor for vectors of `length` samples: LiteRT (default) or TensorFlow."""
        if length not in self.lengths:
            raise BundleError(f"bundle {self.path}: no model for length {length} (has {self.lengths})")
        if backend not in BACKENDS:
            raise BundleError(f"backend {backend!r} is not one of: {', '.join(BACKENDS)}")
        shape = self.spec(length).shape
        if backend == "tensorflow":
            _need("keras" in self.meta, self.path, "has no Keras model for the tensorflow backend")
            return KerasRunner(os.path.join(self.path, self.meta["keras"]["file"]), self.meta["batch"], shape)
        entry = self.meta["input"]["files"][length]
        return Runner(os.path.join(self.path, entry["file"]), self.meta["batch"], shape, threads)


def shipped() -> list[str]:
    """Names of the bundles installed with gr-amc."""
    if not os.path.isdir(SHIPPED_DIR):
        return []
    return sorted(
        d for d in os.listdir(SHIPPED_DIR) if os.path.isfile(os.path.join(SHIPPED_DIR, d, METADATA))
    )


def resolve(model: str) -> str:
    """The directory of `model`: "default", a shipped bundle's name, or a path."""
    name = DEFAULT if model == "default" else model
    if name in shipped():
        return os.path.join(SHIPPED_DIR, name)
    if os.path.isdir(model):
        return model
    raise BundleError(
        f"model {model!r} is neither a bundle directory nor a shipped model "
        f"(shipped: {', '.join(shipped()) or 'none installed'}; 'default' is {DEFAULT})"
    )


def _check_file(path: str, entry, what: str, suffixes: tuple[str, ...]) -> None:
    _need(isinstance(entry, dict) and "file" in entry and "sha256" in entry, path, f"no file for {what}")
    name = entry["file"]
    _need(
        isinstance(name, str) and os.path.basename(name) == name and name.endswith(suffixes),
        path,
        f"bad model file name {name!r}",
    )
    full = os.path.join(path, name)
    _need(os.path.isfile(full), path, f"model file {name} is missing")
    _need(_sha256(full) == entry["sha256"], path, f"model file {name} does not match its checksum")


def load(path: str) -> Bundle:
    """Read and check a bundle (a directory, "default" or a shipped name); raises
    BundleError naming what is wrong."""
    path = resolve(path) if not os.path.isdir(path) else path
    meta_path = os.path.join(path, METADATA)
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
        _check_file(
            path,
            i["files"].get(n) if isinstance(i["files"], dict) else None,
            f"length {n}",
            (".tflite", ".tflite.gz"),
        )
    if "keras" in meta:
        _check_file(path, meta["keras"], "the Keras model", (".keras",))
    return Bundle(path, meta)


def _pow2_at_least(n: int) -> int:
    return 1 << max(0, n - 1).bit_length()


class Runner:
    """LiteRT for one input length. predict() takes any number of vectors: chunks of
    at most `batch`, the last padded to a power of two, each size with its own
    interpreter (resizing one reallocates all its tensors)."""

    def __init__(self, model_path: str, batch: int, shape: tuple[int, ...], threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.model_path, self.batch, self.shape, self.threads = model_path, batch, tuple(shape), threads
        with open(model_path, "rb") as f:
            self._content = f.read()
        if model_path.endswith(".gz"):
            try:
                self._content = gzip.decompress(self._content)
            except (OSError, EOFError) as e:
                raise BundleError(f"model {model_path} is not valid gzip: {e}") from None
        self._make = Interpreter
        self._interpreters: dict[int, tuple] = {}
        self._get(1)  # a corrupt model fails here, at construction

    def _get(self, size: int):
        if size not in self._interpreters:
            try:
                it = self._make(model_content=self._content, num_threads=self.threads)
                idx = it.get_input_details()[0]["index"]
                it.resize_tensor_input(idx, [size, *self.shape])
                it.allocate_tensors()
            except (ValueError, RuntimeError) as e:
                raise BundleError(f"model {self.model_path} does not load in LiteRT: {e}") from None
            self._interpreters[size] = (
                it,
                idx,
                it.get_output_details()[0]["index"],
                np.zeros((size, *self.shape), np.float32),
            )
        return self._interpreters[size]

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """Class probabilities (n, C) of float32 vectors (n, *shape)."""
        x = np.asarray(vectors, np.float32).reshape(-1, *self.shape)
        out = []
        for i in range(0, len(x), self.batch):
            part = x[i : i + self.batch]
            it, idx, odx, buf = self._get(min(self.batch, _pow2_at_least(len(part))))
            buf[: len(part)] = part
            buf[len(part) :] = 0
            it.set_tensor(idx, buf)
            it.invoke()
            out.append(it.get_tensor(odx)[: len(part)].copy())
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


class KerasRunner:
    """The bundle's float Keras model on TensorFlow (the reference the LiteRT files match)."""

    def __init__(self, model_path: str, batch: int, shape: tuple[int, ...]):
        import keras

        self.batch, self.shape = batch, tuple(shape)
        try:
            self.model = keras.saving.load_model(model_path, safe_mode=True)
        except Exception as e:  # keras raises many types for a corrupt or unsafe file
            raise BundleError(f"model {model_path} does not load in Keras (safe mode): {e}") from None

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        x = np.asarray(vectors, np.float32).reshape(-1, *self.shape)
        out = [
            np.asarray(self.model(x[i : i + self.batch], training=False))
            for i in range(0, len(x), self.batch)
        ]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
