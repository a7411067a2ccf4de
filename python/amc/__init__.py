# SPDX-License-Identifier: GPL-3.0-or-later
"""gr-amc: deep-learning automatic modulation classification for GNU Radio.

`from gnuradio import amc` gives the blocks (C++ from the pybind11 module amc_python,
Python from blocks/), `amc.bundle` (model bundles: GRC expressions such as
`amc.bundle.load(model).classes` use it) and `amc.VectorSpec`. The package's layers:

- blocks/    GNU Radio blocks in Python                      (no TensorFlow)
- runtime/   the vectorizer's numpy twin, bundles, waveforms, recordings (no TensorFlow)
- datasets/  RadioML-style dataset generation and safe reading (no TensorFlow)
- ml/        model zoo, training, evaluation, export          (TensorFlow, Keras)
- cli/       the `amc` command, one module per command group
- tools/     the demo flowgraphs and benchmarks
"""

from ._version import __version__
from .amc_python import (
    burst_channel,
    channel_detector,
    decision,
    normalizer,
    signal_estimator,
    vectorizer,
)
from .blocks import (
    classifier,
    classify,
    decision_display,
    device_rate,
    json_sink,
    labelled_vector_sink,
    modulation_source,
    scan_display,
    scan_lanes,
    scanner,
)
from .runtime import bundle, features
from .runtime.features import VectorSpec

__all__ = [
    "__version__",
    "bundle",
    "burst_channel",
    "channel_detector",
    "classifier",
    "classify",
    "decision",
    "decision_display",
    "device_rate",
    "normalizer",
    "features",
    "json_sink",
    "labelled_vector_sink",
    "modulation_source",
    "scan_display",
    "scan_lanes",
    "scanner",
    "signal_estimator",
    "vectorizer",
    "VectorSpec",
]
