# SPDX-License-Identifier: GPL-3.0-or-later
"""Magnitude pruning with the cubic sparsity schedule of Zhang et al. 2021 (equation 3, after Zhu & Gupta).

A trained run is fine-tuned while the smallest weights of every Dense, convolution and
recurrent kernel are masked to zero, the sparsity rising from 0 to the target along

    s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3,   t in {t0, t0 + dt, ..., t0 + n dt}.

Each pruned model is written as a run directory of its own (train.json + model.keras),
so `amc evaluate` and `amc export` take it like any trained run.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np

from ..runtime.atomic import write_json
from . import models
from .data import GENERATED, Augment, batches, open_data, split
from .evaluation import evaluate_run, plot_accuracy, write_tables
from .record import TrainRecord

SPARSITIES = (0.5, 0.8, 0.9, 0.95)
# "layer": every kernel cut to the target sparsity (what per-layer pruning tools do);
# "global": one magnitude threshold over all kernels, so layers of larger weights keep more.
SCOPES = ("layer", "global")


def cubic_sparsity(step: int, final: float, end: int, initial: float = 0.0, begin: int = 0,
                   frequency: int = 100) -> float:  # fmt: skip
    """Target sparsity at training step `step`: Zhang et al. 2021's equation 3, updated every `frequency`
    steps from `begin` and reaching `final` at `end`."""
    if not 0.0 <= initial <= final < 1.0:
        raise ValueError(f"sparsity: need 0 <= initial {initial} <= final {final} < 1")
    if step < begin:
        return initial
    if step >= end:
        return final
    t = begin + (step - begin) // frequency * frequency  # the last schedule point reached
    return final + (initial - final) * (1.0 - (t - begin) / (end - begin)) ** 3


def prunable(model, keep=()) -> list:
    """The kernels Zhang et al. 2021 masks: those of Dense, convolution and recurrent layers (no biases,
    no normalisation statistics), less those of the layers named in `keep`."""
    return [
        v
        for v in model.trainable_weights  # a weight's path starts with its layer's name
        if v.path.endswith("kernel") and len(v.shape) >= 2 and v.path.split("/")[0] not in keep
    ]


def nonzero(model) -> int:
    """Parameters that are not zero (Zhang et al. 2021's NNZ), over every weight of the model."""
    return int(sum(np.count_nonzero(np.asarray(w)) for w in model.get_weights()))


def _mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """A flat mask that zeroes the `sparsity` fraction of smallest magnitudes of `w`."""
    k = int(round(sparsity * w.size))
    m = np.ones(w.size, np.float32)
    if k:
        m[np.argpartition(np.abs(w), k - 1)[:k]] = 0.0
    return m


def _masks(kernels, sparsity: float, scope: str = "layer") -> list[np.ndarray]:
    """Masks for `kernels`, each at `sparsity` ("layer") or together at it ("global")."""
    flat = [np.asarray(v).ravel() for v in kernels]
    if scope == "layer":
        masks = [_mask(w, sparsity) for w in flat]
    else:
        masks = np.split(_mask(np.concatenate(flat), sparsity), np.cumsum([w.size for w in flat])[:-1])
    return [m.reshape(v.shape) for m, v in zip(masks, kernels, strict=True)]


def _pruner_callback(final: float, end: int, frequency: int, scope: str, keep):
    class Pruner(keras.callbacks.Callback):
        """Raises the masks along the schedule and re-applies them after every
        optimizer step (the update would otherwise revive pruned weights)."""

        def on_train_begin(self, logs=None):
            self.kernels = prunable(self.model, keep)
            self.masks = None
            self.step = 0
            self.sparsity = -1.0

        def on_train_batch_begin(self, batch, logs=None):
            s = cubic_sparsity(self.step, final, end, frequency=frequency)
            if s != self.sparsity:
                self.sparsity = s
                self.masks = _masks(self.kernels, s, scope)
                self._apply()

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            self._apply()

        def _apply(self):
            for v, m in zip(self.kernels, self.masks, strict=True):
                v.assign(np.asarray(v) * m)

    return Pruner()


def prune(
    run_dir: str,
    out: str,
    sparsities=SPARSITIES,
    epochs: int = 5,
    batch: int = 128,
    lr: float = 1e-3,  # 1e-4 let PET-CGDNN collapse at sparsity 0.9 (docs/zoo.md)
    frequency: int = 100,
    scope: str = "layer",
    keep=(),
    log=print,
) -> list[dict]:
    """Zhang et al. 2021's Table II for a run: fine-tune a pruned copy per sparsity (the schedule reaches
    the target after 80 % of the steps; the rest recovers at that sparsity), then test
    every copy and the original on the run's test split. `scope` and `keep` (layer names
    left dense) choose what is cut; see SCOPES. Writes out/sparsity_S/ runs,
    table.md, table.csv, accuracy.png and accuracy.json (updated after every sparsity; a
    second call with the same settings reuses the sparsities already done)."""
    check_settings(sparsities, epochs, batch, lr, frequency, scope)
    keep = sorted(set(keep))
    trained = keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True)
    names = [layer.name for layer in trained.layers]
    if set(keep) - set(names) or not prunable(trained, keep):  # checked before the data is read
        raise ValueError(f"keep: {keep} must name layers of {run_dir}'s model and leave some to prune "
                         f"(its layers: {', '.join(names)})")  # fmt: skip
    info = TrainRecord.read(run_dir)
    if info.data.startswith(GENERATED):
        raise ValueError(f"{run_dir}: pruning fine-tunes on the run's dataset file; this run was trained on "
                         f"generated windows ({info.data})")  # fmt: skip
    spec = info.vector_spec()
    data = open_data(info.data, spec.window)
    train_idx, _, test_idx = split(data, info.seed)
    augment = Augment(**info.config.get("augment", {}))
    steps = len(train_idx) // batch
    os.makedirs(out, exist_ok=True)

    base = evaluate_run(run_dir, data, test_idx)
    base["sparsity"], base["nnz"] = 0.0, base["params"]
    results = [base]
    for s in sparsities:
        run = os.path.join(out, f"sparsity_{s:.2f}")
        settings = {
            "from": os.path.abspath(run_dir),
            "sparsity": s,
            "epochs": epochs,
            "batch": batch,
            "lr": lr,
            "scope": scope,
            "keep": keep,
        }
        if _done(run, settings):  # an earlier, interrupted call got this far
            log(f"sparsity {s}: already pruned in {run}")
        else:
            model = keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True)
            models.compile_for_training(model, lr)
            rng = np.random.default_rng(info.seed)

            def stream(rng=rng):
                while True:
                    yield from batches(data, train_idx, spec, batch, rng, augment)

            log(f"sparsity {s}: fine-tuning {epochs} epochs of {steps} steps")
            pruner = _pruner_callback(s, max(1, int(0.8 * steps * epochs)), frequency, scope, keep)
            model.fit(
                stream(), steps_per_epoch=steps, epochs=epochs, verbose=2, shuffle=False, callbacks=[pruner]
            )
            os.makedirs(run, exist_ok=True)
            models.save_inference(model, os.path.join(run, "model.keras"))
            # train.json last: its presence marks a finished sparsity
            dataclasses.replace(info, pruned={**settings, "nonzero": nonzero(model)}).write(run)
        r = evaluate_run(run, data, test_idx)
        r["sparsity"], r["nnz"] = s, TrainRecord.read(run).pruned["nonzero"]
        log(f"sparsity {s}: {r['nnz']:,} non-zero, highest {100 * r['highest']:.2f}%, "
            f"average {100 * r['average']:.2f}%")  # fmt: skip
        results.append(r)
        _report(out, info.model, results)  # after every sparsity: long runs show results as they come
    return results


def check_settings(sparsities, epochs: int, batch: int, lr: float, frequency: int, scope: str) -> None:
    """Refuse, by name, settings prune() cannot run with, before any model or data is read."""
    for s in sparsities:
        if not 0.0 < s < 1.0:
            raise ValueError(f"sparsity {s} must be between 0 and 1")
    for name, value in (("epochs", epochs), ("batch", batch), ("frequency", frequency)):
        if value < 1:
            raise ValueError(f"{name} {value} must be >= 1")
    if not lr > 0:
        raise ValueError(f"lr {lr} must be > 0")
    if scope not in SCOPES:
        raise ValueError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")


def _done(run: str, settings: dict) -> bool:
    try:
        got = TrainRecord.read(run).pruned or {}
    except (OSError, ValueError):
        return False
    got = {"scope": "layer", "keep": [], **got}  # runs pruned before these settings existed
    return {k: got.get(k) for k in settings} == settings and os.path.isfile(os.path.join(run, "model.keras"))


def _report(out: str, model: str, results: list[dict]) -> None:
    head = ["sparsity", "non-zero parameters", "highest", "average"]
    rows = [[f"{r['sparsity']:g}" if r["sparsity"] else "0 (original)", f"{r['nnz']:,}",
             f"{100 * r['highest']:.2f}%", f"{100 * r['average']:.2f}%"] for r in results]  # fmt: skip
    write_tables(out, head, rows)
    curves = [{**r, "name": f"{model} sparsity {r['sparsity']:g}"} for r in results]
    plot_accuracy(curves, os.path.join(out, "accuracy.png"))
    write_json(
        os.path.join(out, "accuracy.json"),
        {f"{r['sparsity']:g}": {str(k): v for k, v in r["per_snr"].items()} for r in results},
    )
