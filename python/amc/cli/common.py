# SPDX-License-Identifier: GPL-3.0-or-later
"""What several commands share: the vectorizer's parameters as options."""

from __future__ import annotations

import argparse

from ..runtime import features


def add_spec_args(p: argparse.ArgumentParser, window: int = 128) -> None:
    p.add_argument("--window", type=int, default=window, help="window length N (>= 16)")
    p.add_argument("--hop", type=int, default=None, help="samples between window starts (default N)")
    p.add_argument("--representation", choices=features.REPRESENTATIONS, default="iq")
    p.add_argument("--layout", choices=features.LAYOUTS, default="channels_last")
    p.add_argument("--normalization", choices=features.NORMALIZATIONS, default="l2")
    p.add_argument("--fft-size", type=int, default=0, help="mag_fft FFT size (0: window / fft-avg)")
    p.add_argument("--fft-avg", type=int, default=1, help="mag_fft: FFTs averaged per window")


def spec_of(args) -> features.VectorSpec:
    return features.VectorSpec(
        args.window, args.representation, args.layout, args.normalization, args.fft_size, args.fft_avg
    )


def rounded(tree):
    """Accuracies to 4 decimals for bundle.yaml."""
    if isinstance(tree, dict):
        return {k: rounded(v) for k, v in tree.items()}
    return round(tree, 4) if isinstance(tree, float) else tree
