# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline machine learning: the model zoo, training, evaluation, export, quantisation, pruning.

- models: the papers' classifiers as Keras 3 models (MODELS)
- data: dataset files as training data (split, augmentation, batches)
- record: train.json, the record of a run
- training: amc train; evaluation: amc evaluate (tables, curves, confusion matrices)
- export: amc export (bundles); quantize: amc quantize; pruning: amc prune

Imports TensorFlow and Keras at module level; only cli/ and tools/ import ml/, and
only inside the commands that need it. Bundles are what leaves this layer.
"""
