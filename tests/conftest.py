# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest runs against the installed gr-amc (run .ci/setup first)."""

import json
import os
import pathlib
import sys

import pytest

# TensorFlow's C++ start-up chatter would bury pytest's report.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV_BIN = pathlib.Path(sys.executable).parent


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture
def gui_env():
    """Environment for running a Qt flowgraph without a screen."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    return env


def fake_run(tmp_path, name, window=128, n_classes=11, classes=None):
    """A run directory as amc train writes it, with an untrained (random) model."""
    run = tmp_path / f"run_{name}"
    run.mkdir()
    from gnuradio.amc import models

    entry = models.MODELS[name]
    n_classes = len(classes) if classes else n_classes
    model = models.build(name, n_classes, None if entry.variable_length else window)
    model.save(run / "model.keras")
    info = {
        "model": name,
        "params": model.count_params(),
        "classes": list(classes or [f"c{i}" for i in range(n_classes)]),
        "spec": {
            "window": window,
            "representation": entry.representation,
            "layout": entry.layout,
            "normalization": entry.normalization,
            "fft_size": 0,
            "fft_avg": 1,
        },  # fmt: skip
        "variable_length": entry.variable_length,
        "data": "/data/x.h5",
        "data_sha256": "0" * 64,
        "seed": 0,
        "command": "amc train ...",
    }
    (run / "train.json").write_text(json.dumps(info))
    return run, model
