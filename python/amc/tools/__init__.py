# SPDX-License-Identifier: GPL-3.0-or-later
"""Ready-made flowgraphs and measurements behind `amc demo` and `amc bench`.

- demo: the headless sensor on a built-in signal; the vectorizer alone
- bench_vectorizer, bench_classifier, bench_training: the benchmarks of docs/benchmarks.md

May import every layer; bench_training imports ml/ (TensorFlow).
"""
