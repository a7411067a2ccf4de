# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio blocks written in Python: what a flowgraph (and GRC's [AMC] category) uses.

- classifier: vectors -> class probabilities, index, tags and messages (a frozen bundle)
- classify: the receive chain in one hier block (filter, resampler, vectorizer,
  classifier, decision) configured from a bundle; device_rate: one sample rate
- decision_display: the Qt label and class bars of the live GUI
- json_sink: decision messages as JSON lines
- labelled_vector_sink: vectors of known class and SNR into an RML2018-layout HDF5 file
- modulation_source: a signal of any RadioML class (hier block)
- offline: the receive chain's blocks run over arrays (amc classify, amc scan, the scanner)
- scan_display: the Qt waterfall of a band with a labelled box per signal (and a table)
- scanner: every signal of a band found, cut out and classified (hier block); scan_lanes

The C++ blocks (vectorizer, signal_estimator, normalizer, decision, burst_channel) come
from the bindings.
May import runtime/ and datasets/, GNU Radio, numpy, PMT and (in the display only) Qt;
never TensorFlow or Keras: a flowgraph runs on LiteRT alone (tests/test_layout.py).
"""

from .modulation_source import modulation_source  # noqa: I001 (before the sink, which needs it)
from .classifier import classifier
from .classify import classify, device_rate
from .decision_display import decision_display
from .json_sink import json_sink
from .labelled_vector_sink import labelled_vector_sink
from .scan_display import scan_display
from .scanner import scan_lanes, scanner

__all__ = [
    "classifier",
    "classify",
    "decision_display",
    "device_rate",
    "json_sink",
    "labelled_vector_sink",
    "scan_display",
    "scan_lanes",
    "scanner",
    "modulation_source",
]
