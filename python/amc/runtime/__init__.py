# SPDX-License-Identifier: GPL-3.0-or-later
"""The contract between training and the running flowgraph, and what both stand on.

- features: the vectorizer's numpy twin (VectorSpec, transform, vectorize)
- bundle: reading, checking and running frozen model bundles (LiteRT)
- waveforms: the RadioML classes, their symbol alphabets, pulse shapes, synthetic audio
- recordings: cf32, SigMF, WAV I/Q and .npy readers, SigMF annotations
- atomic: files written whole or not at all; progress: progress bars
- estimate: blind estimates of a recording (the C++ estimator's) and their words

May import numpy, PyYAML, LiteRT (when a model runs), GNU Radio's filter design and the
compiled module amc_python (estimate, when it runs);
never TensorFlow or Keras at import time (tests/test_layout.py), and nothing of
blocks/, datasets/, ml/, cli/ or tools/.
"""
