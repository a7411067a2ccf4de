# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest runs against the installed gr-amc (run .ci/setup first)."""

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
