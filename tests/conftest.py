# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest tests the build tree: the package CMake assembles in build/test_modules (with the
library just built), so that `cmake --build build && pytest tests` tests an edit without an
install. Tests of the installed module (what a user of /usr/bin/python3 or GRC gets after
`cmake --install`) are marked `installed` and run with the `installed_env` fixture."""

import dataclasses
import os
import pathlib
import sys

import pytest

# TensorFlow's C++ start-up chatter would bury pytest's report.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV_BIN = pathlib.Path(sys.executable).parent
BUILD_PACKAGE = ROOT / "build" / "test_modules"

if not (BUILD_PACKAGE / "gnuradio" / "amc" / "__init__.py").is_file():
    raise pytest.UsageError(f"no build tree in {BUILD_PACKAGE}: run .ci/setup (or cmake --build build) first")
# before anything imports gnuradio: its __init__ extends its path from sys.path once
sys.path.insert(0, str(BUILD_PACKAGE))
# and for the commands the tests start (amc, flowgraphs, examples)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(BUILD_PACKAGE), os.environ.get("PYTHONPATH")) if p)


def pytest_collection_finish(session):
    import gnuradio.amc

    where = pathlib.Path(gnuradio.amc.__file__).resolve()
    if BUILD_PACKAGE not in where.parents:
        raise pytest.UsageError(f"gnuradio.amc came from {where}, not the build tree {BUILD_PACKAGE}")


@pytest.fixture
def installed_env():
    """The environment of a user of the installed module: no build tree, no venv on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


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
    from gnuradio.amc.ml import models
    from gnuradio.amc.ml.record import TrainRecord

    run = tmp_path / f"run_{name}"
    run.mkdir()
    entry = models.MODELS[name]
    classes = list(classes or [f"c{i}" for i in range(n_classes)])
    model = models.build(name, len(classes), None if entry.variable_length else window)
    model.save(run / "model.keras")
    TrainRecord(
        model=name,
        params=model.count_params(),
        classes=classes,
        spec=dataclasses.asdict(entry.spec(window)),
        variable_length=entry.variable_length,
        data="/data/x.h5",
        data_sha256="0" * 64,
        seed=0,
        command="amc train ...",
    ).write(str(run))
    return run, model
