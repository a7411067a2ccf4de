# SPDX-License-Identifier: GPL-3.0-or-later
"""amc export: a trained run frozen into a bundle (runtime.bundle reads it).

One LiteRT flatbuffer per input length, optionally quantised, plus the float Keras
model and bundle.yaml. Recurrent layers are exported unrolled with fixed shapes, the
form LiteRT runs (a dynamic RNN does not convert).
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf
import yaml

from .._version import __version__
from ..runtime.bundle import DEFAULT_BATCH, FORMAT, KERAS_FILE, METADATA, RUNTIME, sha256
from . import models
from .record import TrainRecord

VARIABLE_LENGTHS = (64, 128, 256, 512, 1024)


def _unrolled(model):
    """A copy of `model` whose recurrent layers are unrolled (fixed-length loops)."""

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

    Post-training quantisation (Rajendran et al. 2018, section VI-E): "int8" quantises weights and
    activations, their ranges calibrated on `calibration` (vectors (k, *shape));
    "int8-weights" only the weights (activations stay float: recurrent state keeps
    its precision). Inputs and outputs stay float, so the blocks use either unchanged.
    """
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
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization: {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
    if os.path.exists(out) and not force:
        raise ValueError(f"out: {out} exists; allow overwriting it (--force)")
    info = TrainRecord.read(run_dir)
    model = keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True)
    spec = info.vector_spec()
    if lengths is None:
        lengths = VARIABLE_LENGTHS if info.variable_length else (spec.window,)
    if not info.variable_length and tuple(lengths) != (spec.window,):
        raise ValueError(f"lengths: model {info.model} takes only {spec.window}")
    if quantization == "int8" and not all(len((int8_calibration or {}).get(n, ())) for n in lengths):
        raise ValueError("int8_calibration: int8 quantisation needs calibration vectors for every length")
    if spec.representation == "mag_fft":
        raise ValueError(
            "representation: mag_fft models cannot be bundled (bundles carry no fft_size/fft_avg)"
        )
    parent = os.path.dirname(os.path.abspath(out))
    tmp = tempfile.mkdtemp(prefix=".bundle.", dir=parent)
    try:
        files = write_models(model, info, lengths, quantization, int8_calibration or {}, tmp)
        # the weights without the optimizer's state: a third of the size
        models.save_inference(model, os.path.join(tmp, KERAS_FILE))
        keras_file = {"file": KERAS_FILE, "sha256": sha256(os.path.join(tmp, KERAS_FILE))}
        meta = metadata(info, lengths, files, keras_file, batch, quantization, evaluation)
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


def write_models(model, info: TrainRecord, lengths, quantization: str, calibration: dict, out: str) -> dict:
    """One LiteRT file per length in directory `out`; {length: {file, sha256}}."""
    files = {}
    for n in lengths:
        fixed = model
        if info.variable_length:
            # unrolling needs a known length: the same weights in a fixed-length copy
            fixed = models.build(info.model, len(info.classes), n)
            fixed.set_weights(model.get_weights())
        flat = to_litert(fixed, info.vector_spec(n).shape, quantization, calibration.get(n))
        # Unrolled recurrent graphs repeat one step's ops per sample: gzip halves them
        # (weights alone barely compress, so convolutional models stay plain).
        packed = gzip.compress(flat, 9, mtime=0)
        name = f"model_{n}.tflite"
        if len(packed) < 0.75 * len(flat):
            name, flat = name + ".gz", packed
        with open(os.path.join(out, name), "wb") as f:
            f.write(flat)
        files[n] = {"file": name, "sha256": sha256(os.path.join(out, name))}
    return files


def metadata(info: TrainRecord, lengths, files: dict, keras_file: dict, batch: int, quantization: str,
             evaluation) -> dict:  # fmt: skip
    """bundle.yaml: what runtime.bundle.load checks, and what the model was trained on and scored."""
    spec = info.vector_spec()
    return {
        "format": FORMAT,
        "name": info.model,
        "runtime": RUNTIME,
        "quantization": QUANTIZATION_NAMES[quantization],
        "batch": batch,
        "classes": list(info.classes),
        "input": {
            "representation": spec.representation,
            "layout": spec.layout,
            "normalization": spec.normalization,
            "lengths": [int(n) for n in lengths],
            "files": {int(n): v for n, v in files.items()},
        },
        "keras": keras_file,
        "trained_on": {
            "data": os.path.basename(info.data),
            "data_sha256": info.data_sha256,
            "length": spec.window,
            **info.data_attrs,
        },
        "training": {"command": info.command, "seed": info.seed, "params": info.params},
        "evaluation": evaluation or {},
        "generator": f"gr-amc {__version__}",
    }
