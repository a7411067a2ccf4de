# SPDX-License-Identifier: GPL-3.0-or-later
"""gr-amc: deep-learning automatic modulation classification for GNU Radio.

C++ blocks come from the pybind11 module (amc_python); the numpy reference of the
vectorizer is in gnuradio.amc.features.
"""

from ._version import __version__
from .amc_python import burst_channel, decision, vectorizer
from .classifier import classifier
from .display import decision_display
from .features import VectorSpec
from .json_sink import json_sink
from .labelled_vector_sink import labelled_vector_sink
from .signals import modulation_source

__all__ = [
    "__version__",
    "burst_channel",
    "classifier",
    "decision_display",
    "json_sink",
    "decision",
    "labelled_vector_sink",
    "modulation_source",
    "vectorizer",
    "VectorSpec",
]
