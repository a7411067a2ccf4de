# SPDX-License-Identifier: GPL-3.0-or-later
"""amc quantize: int8 post-training quantisation of a run, side by side with its float model."""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from ..datasets import synthetic
from ..runtime import bundle, features
from ..runtime.atomic import write_json
from . import export
from .data import CALIBRATION_SEED, GENERATED, run_test_data, split, synthetic_data
from .evaluation import accuracy_per_snr, write_tables
from .record import TrainRecord


def quantize(run_dir: str, out: str, calibration: int = 512, log=print) -> dict:
    """Post-training int8 quantisation of a run (Rajendran et al. 2018, section VI-E): float32, int8 and
    int8-weights LiteRT bundles side by side in `out`, each tested on the run's test split
    (at every trained length, for a variable-length run); writes table.md, table.csv and
    accuracy.json there."""
    if calibration < 1:
        raise ValueError(f"calibration: {calibration} vectors cannot calibrate int8 ranges (need >= 1)")
    info = TrainRecord.read(run_dir)
    spec = info.vector_spec()
    lengths = info.trained_lengths
    calib, tests = {}, {}
    for n in lengths:
        s = dataclasses.replace(spec, window=n)
        data, test_idx = run_test_data(info.data, info.seed, n)
        if info.data.startswith(GENERATED):  # calibrated on windows of the same generator
            ranges = synthetic.preset(info.data[len(GENERATED) :])
            cal = synthetic_data(ranges, calibration, n, info.seed + CALIBRATION_SEED)
            calib[n], _ = features.transform(cal.windows(np.arange(len(cal))), s)
        else:
            train_idx = split(data, info.seed)[0]
            rng = np.random.default_rng(info.seed)
            calib_idx = np.sort(rng.choice(train_idx, min(calibration, len(train_idx)), replace=False))
            calib[n], _ = features.transform(data.windows(calib_idx), s)
        vectors, _ = features.transform(data.windows(test_idx), s)
        tests[n] = vectors, data.y[test_idx], data.snr[test_idx]
    os.makedirs(out, exist_ok=True)
    rows = {}
    for kind, quantization in (("float32", "none"), ("int8", "int8"), ("int8-weights", "int8-weights")):
        path = os.path.join(out, kind)
        export.export(run_dir, path, lengths=lengths, force=True, quantization=quantization,
                      int8_calibration=calib)  # fmt: skip
        b = bundle.load(path)
        for n, (vectors, truth, snr) in tests.items():
            t0 = time.perf_counter()
            pred = b.runner(n).predict(vectors).argmax(axis=1)
            ms = 1000 * (time.perf_counter() - t0) / len(vectors)
            per_snr = accuracy_per_snr(pred == truth, snr)
            size = os.path.getsize(os.path.join(path, b.meta["input"]["files"][n]["file"]))
            name = kind if len(lengths) == 1 else f"{kind} ({n})"
            average = float(np.mean(list(per_snr.values())))
            r = rows[name] = {"per_snr": per_snr, "highest": max(per_snr.values()), "average": average,
                              "bytes": size, "ms_per_sample": ms}  # fmt: skip
            log(f"{name}: highest {100 * r['highest']:.2f}%, average {100 * r['average']:.2f}%, "
                f"{size / 1024:.0f} KiB, {ms:.3f} ms/sample")  # fmt: skip
    head = ["model", "LiteRT file (KiB)", "test ms/sample", "highest", "average"]
    body = [
        [
            f"{info.model} {k}",
            f"{r['bytes'] / 1024:.0f}",
            f"{r['ms_per_sample']:.3f}",
            f"{100 * r['highest']:.2f}%",
            f"{100 * r['average']:.2f}%",
        ]  # fmt: skip
        for k, r in rows.items()
    ]
    write_tables(out, head, body)
    write_json(
        os.path.join(out, "accuracy.json"),
        {k: {str(s): v for s, v in r["per_snr"].items()} for k, r in rows.items()},
    )
    return rows
