# SPDX-License-Identifier: GPL-3.0-or-later
"""`amc bench training`: seconds per training epoch of every zoo model on a set the size
of RML2016.10a (220,000 vectors, 6:2:2 split: 132,000 training vectors), from timed
training steps at the papers' batch of 400 (Zhang et al. 2021's Table I column)."""

from __future__ import annotations

import time

import numpy as np

from ..ml import models

RML2016_TRAIN_VECTORS = 132_000


def seconds_per_epoch(
    name: str,
    n_classes: int = 11,
    window: int = 128,
    batch: int = 400,
    steps: int = 10,
    warmup: int = 3,
    train_vectors: int = RML2016_TRAIN_VECTORS,
) -> dict:
    """Median time of `steps` optimizer steps after `warmup` untimed ones, times the
    steps of one epoch. Fixed-shape batches, as `amc train` feeds them."""
    import keras

    entry = models.MODELS[name]
    spec = entry.spec(window)
    model = models.build(name, n_classes, None if entry.variable_length else window)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *spec.shape)).astype(np.float32)
    y = rng.integers(0, n_classes, batch)
    for _ in range(warmup):
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - t0)
    step = float(np.median(times))
    return {"model": name, "params": int(model.count_params()), "ms_per_step": 1000 * step,
            "seconds_per_epoch": step * (train_vectors // batch)}  # fmt: skip


def table(rows: list[dict]) -> str:
    out = ["| model | parameters | ms/step (batch 400) | s/epoch (132,000 vectors) |", "|---|---|---|---|"]
    out += [f"| {r['model']} | {r['params']:,} | {r['ms_per_step']:.0f} | {r['seconds_per_epoch']:.0f} |"
            for r in rows]  # fmt: skip
    return "\n".join(out)
