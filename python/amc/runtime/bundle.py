# SPDX-License-Identifier: GPL-3.0-or-later
"""Frozen model bundles: what the GNU Radio classifier runs.

A bundle is a directory holding one LiteRT flatbuffer per input length and
`bundle.yaml`, the metadata: class names in order, the vectorizer parameters the
model expects (the same names as amc.vectorizer's), what it was trained on and how,
and its evaluation. This module reads and checks bundles and runs them (LiteRT, or
the float Keras model on request); ml.export writes them.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os

import numpy as np
import yaml

from . import features

FORMAT = 1
METADATA = "bundle.yaml"
RUNTIME = "litert"
DEFAULT_BATCH = 256  # most vectors per model call
KERAS_FILE = "model.keras"  # the float model, for the TensorFlow backend
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bundles")
DEFAULT = "rml2016_res128"  # what "default" names (docs/models.md)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


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
        """The architecture (the zoo's name: res_cnn, vgg_cnn, ...)."""
        return self.meta["name"]

    @property
    def id(self) -> str:
        """The name a user picks the bundle by: its directory (rml2016_res128)."""
        return os.path.basename(os.path.normpath(self.path))

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
            runner = KerasRunner(
                os.path.join(self.path, self.meta["keras"]["file"]), self.meta["batch"], shape
            )
            runner.check_shapes(self, length)
            return runner
        if not is_int(threads) or threads < 1:
            raise BundleError(f"threads {threads!r} must be an integer >= 1")
        entry = self.meta["input"]["files"][length]
        runner = Runner(os.path.join(self.path, entry["file"]), self.meta["batch"], shape, threads)
        runner.check_shapes(self, length)
        return runner


def shipped() -> list[str]:
    """Names of the bundles installed with gr-amc."""
    if not os.path.isdir(SHIPPED_DIR):
        return []
    return sorted(
        d for d in os.listdir(SHIPPED_DIR) if os.path.isfile(os.path.join(SHIPPED_DIR, d, METADATA))
    )


def resolve(model: str) -> str:
    """The directory of `model`: "default", a shipped bundle's name, or a path. Shipped names
    win over a directory of the same name in the current directory (write ./default to
    mean that one), so that a stray folder cannot replace the model a flowgraph asks for."""
    if not isinstance(model, str) or not model:
        raise BundleError(f"model {model!r} must be a bundle directory or a shipped model's name")
    name = DEFAULT if model == "default" else model
    if name in shipped():
        return os.path.join(SHIPPED_DIR, name)
    if os.path.isdir(model):
        return model
    what = "does not exist" if not os.path.exists(model) else "is not a directory"
    raise BundleError(
        f"model {model!r} is neither a shipped model (shipped: {', '.join(shipped()) or 'none installed'}; "
        f"'default' is {DEFAULT}) nor a bundle directory ({model} {what})"
    )


def _inside(path: str, name: str) -> bool:
    """Whether `name` in bundle `path` is, after links, a file inside the bundle."""
    root = os.path.realpath(path)
    return os.path.commonpath([root, os.path.realpath(os.path.join(path, name))]) == root


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
    _need(_inside(path, name), path, f"model file {name} is a link to a file outside the bundle")
    _need(sha256(full) == entry["sha256"], path, f"model file {name} does not match its checksum")


def load(path: str) -> Bundle:
    """Read and check a bundle (a directory, "default" or a shipped name); raises
    BundleError naming what is wrong."""
    path = resolve(path)
    meta_path = os.path.join(path, METADATA)
    _need(os.path.isfile(meta_path), path, f"has no {METADATA}")
    # no checksum covers bundle.yaml itself: it must be the bundle's own file
    _need(not os.path.islink(meta_path), path, f"{METADATA} is a symbolic link")
    try:
        with open(meta_path) as f:
            meta = yaml.safe_load(f)  # plain data only: no Python objects from YAML tags
    except yaml.YAMLError as e:
        raise BundleError(f"bundle {path}: {METADATA} is not plain YAML ({e})") from None
    _need(isinstance(meta, dict), path, f"{METADATA} is not a mapping")
    for key in ("format", "name", "runtime", "batch", "classes", "input"):
        _need(key in meta, path, f"{METADATA} lacks '{key}'")
    _need(
        is_int(meta["format"]) and meta["format"] == FORMAT,
        path,
        f"format {meta['format']!r} is not {FORMAT}",
    )
    _need(meta["runtime"] == RUNTIME, path, f"runtime {meta['runtime']!r} is not {RUNTIME}")
    _need(
        is_int(meta["batch"]) and meta["batch"] >= 1,
        path,
        f"batch {meta['batch']!r} must be a positive integer",
    )
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
    # a mag_fft vector needs fft_size and fft_avg, which bundles do not carry
    _need(i["representation"] != "mag_fft", path, "representation mag_fft is not supported in bundles")
    _need(i["layout"] in features.LAYOUTS, path, f"unknown layout {i['layout']!r}")
    _need(
        i["normalization"] in features.NORMALIZATIONS, path, f"unknown normalization {i['normalization']!r}"
    )
    _need(isinstance(i["lengths"], list) and i["lengths"], path, "input lengths must be a non-empty list")
    for n in i["lengths"]:
        _need(is_int(n) and n >= features.MIN_WINDOW, path, f"bad input length {n!r}")
        _check_file(
            path,
            i["files"].get(n) if isinstance(i["files"], dict) else None,
            f"length {n}",
            (".tflite", ".tflite.gz"),
        )
    if "keras" in meta:
        _check_file(path, meta["keras"], "the Keras model", (".keras",))
    return Bundle(path, meta)


def is_int(value) -> bool:
    """An integer (Python or numpy), not a bool: what counts, threads and lengths must be."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_rate(value) -> bool:
    """A finite real number >= 0 (Python or numpy), not a bool: what sample and symbol
    rates must be (0 meaning unknown or automatic where a block says so)."""
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
        and value >= 0
    )


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

    def check_shapes(self, b: Bundle, length: int) -> None:
        """Refuse a model whose input or output contradicts the bundle's metadata."""
        it = self._interpreters[1][0]
        declared = [int(d) for d in it.get_input_details()[0]["shape_signature"][1:]]
        outputs = int(it.get_output_details()[0]["shape"][-1])
        _check_model_shapes(b, length, declared, outputs, self.model_path)

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

        self.model_path, self.batch, self.shape = model_path, batch, tuple(shape)
        try:
            self.model = keras.saving.load_model(model_path, safe_mode=True)
        except Exception as e:  # keras raises many types for a corrupt or unsafe file
            raise BundleError(f"model {model_path} does not load in Keras (safe mode): {e}") from None

    def check_shapes(self, b: Bundle, length: int) -> None:
        declared = [-1 if d is None else int(d) for d in self.model.input_shape[1:]]
        _check_model_shapes(b, length, declared, int(self.model.output_shape[-1]), self.model_path)

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        x = np.asarray(vectors, np.float32).reshape(-1, *self.shape)
        out = [
            np.asarray(self.model(x[i : i + self.batch], training=False))
            for i in range(0, len(x), self.batch)
        ]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def _check_model_shapes(b: Bundle, length: int, declared: list[int], outputs: int, model_path: str) -> None:
    """The model takes vectors of the bundle's shape at `length` (-1: any size, the
    variable-length models) and gives one probability per class of bundle.yaml."""
    expected = list(b.spec(length).shape)
    fits = len(declared) == len(expected) and all(
        d in (-1, e) for d, e in zip(declared, expected, strict=True)
    )
    if not fits:
        raise BundleError(
            f"bundle {b.path}: {METADATA} says length {length} "
            f"({b.meta['input']['layout']}: vectors of shape "
            f"{tuple(expected)}), but model {os.path.basename(model_path)} takes {tuple(declared)}"
        )
    if outputs != len(b.classes):
        raise BundleError(
            f"bundle {b.path}: {METADATA} lists {len(b.classes)} classes, but model "
            f"{os.path.basename(model_path)} gives {outputs} outputs"
        )
