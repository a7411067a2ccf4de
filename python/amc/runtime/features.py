# SPDX-License-Identifier: GPL-3.0-or-later
"""numpy reference of the vectorizer: the same windows, transforms and flags.

Training code calls this on recorded or generated streams; the qa tests hold the
C++ block (lib/window_transform.cc) to it within 1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REPRESENTATIONS = ("iq", "amp_phase", "mag_fft")
LAYOUTS = ("channels_last", "channels_first")
NORMALIZATIONS = ("none", "l2", "rms", "peak", "l1")
MIN_WINDOW = 16
MAX_WINDOW = 1 << 20  # as lib/window_transform.cc

# Values of the amc_flag tag, and of the flags returned here.
OK, NONFINITE, SILENT = "ok", "nonfinite", "silent"


def _choice(param: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{param} {value!r} is not one of: {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class VectorSpec:
    """What a vector holds: the parameters shared by the block, the reference,
    and (later) the metadata of a model bundle."""

    window: int
    representation: str = "iq"
    layout: str = "channels_last"
    normalization: str = "l2"
    fft_size: int = 0
    fft_avg: int = 1

    def __post_init__(self):
        if self.window < MIN_WINDOW:
            raise ValueError(f"window {self.window} is too short; window must be >= {MIN_WINDOW}")
        if self.window > MAX_WINDOW:
            raise ValueError(f"window {self.window} is too long; window must be <= {MAX_WINDOW}")
        _choice("representation", self.representation, REPRESENTATIONS)
        _choice("layout", self.layout, LAYOUTS)
        _choice("normalization", self.normalization, NORMALIZATIONS)
        if self.representation == "mag_fft":
            if self.fft_avg < 1:
                raise ValueError(f"fft_avg {self.fft_avg} must be >= 1")
            size = self.fft_size or (self.window // self.fft_avg)
            if size < 1 or size * self.fft_avg != self.window:
                raise ValueError(
                    f"fft_size {self.fft_size} with fft_avg {self.fft_avg} does not fit "
                    f"window {self.window}; fft_size * fft_avg must equal window"
                )
            object.__setattr__(self, "fft_size", size)

    @property
    def vlen(self) -> int:
        """Floats per vector."""
        return self.fft_size if self.representation == "mag_fft" else 2 * self.window

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one vector as a model sees it."""
        if self.representation == "mag_fft":
            return (self.fft_size,)
        if self.layout == "channels_first":
            return (2, self.window)
        return (self.window, 2)


def _scale(x: np.ndarray, energy: np.ndarray, normalization: str) -> np.ndarray:
    """Per-window scale factor (float64) for windows of nonzero, finite energy."""
    n = x.shape[1]
    if normalization == "none":
        return np.ones(len(x))
    if normalization == "l2":
        return 1.0 / np.sqrt(energy)
    if normalization == "rms":
        return np.sqrt(n / energy)
    if normalization == "peak":
        return 1.0 / np.abs(x).max(axis=1)
    return 1.0 / np.abs(x).sum(axis=1)  # l1


def transform(windows: np.ndarray, spec: VectorSpec) -> tuple[np.ndarray, np.ndarray]:
    """Transform complex windows (n, window) into vectors (n, *spec.shape), float32.

    Returns the vectors and an array of flags (OK, NONFINITE, SILENT) per window;
    flagged windows are all zeros, as the block writes them.
    """
    x = np.asarray(windows)
    if x.ndim != 2 or x.shape[1] != spec.window:
        raise ValueError(f"windows must have shape (n, {spec.window}), got {x.shape}")
    x = x.astype(np.complex128)
    n_win = len(x)
    finite = np.isfinite(x).all(axis=1)
    energy = np.where(finite, (np.abs(np.where(finite[:, None], x, 0)) ** 2).sum(axis=1), 0.0)
    silent = finite & (energy == 0)
    good = finite & ~silent
    flags = np.full(n_win, OK, dtype=object)
    flags[~finite] = NONFINITE
    flags[silent] = SILENT

    out = np.zeros((n_win, spec.vlen), dtype=np.float64)
    xg, eg = x[good], energy[good]
    if len(xg):
        out[good] = _vectors(xg, eg, spec)
    with np.errstate(over="ignore"):
        out = out.astype(np.float32)
    # finite samples whose vector leaves float32's range (normalization "none"), as the block
    overflow = good & ~np.isfinite(out).all(axis=1)
    out[overflow] = 0.0
    flags[overflow] = NONFINITE
    return out.reshape((n_win, *spec.shape)), flags


def _vectors(x: np.ndarray, energy: np.ndarray, spec: VectorSpec) -> np.ndarray:
    n = spec.window
    if spec.representation == "iq":
        y = x * _scale(x, energy, spec.normalization)[:, None]
        pair = (y.real, y.imag)
    elif spec.representation == "amp_phase":
        pair = (np.abs(x) * _scale(x, energy, spec.normalization)[:, None], np.angle(x) / np.pi)
    else:
        seg = x.reshape(len(x), spec.fft_avg, spec.fft_size)
        mag = np.abs(np.fft.fft(seg, axis=2)).mean(axis=1)
        mag *= _scale(x, energy, spec.normalization)[:, None]
        return np.fft.fftshift(mag, axes=1)
    axis = 1 if spec.layout == "channels_first" else 2
    return np.stack(pair, axis=axis).reshape(len(x), 2 * n)


def window_starts(n_samples: int, window: int, hop: int) -> np.ndarray:
    """Offsets of the windows the block cuts from a stream of n_samples."""
    if hop < 1:
        raise ValueError(f"hop {hop} must be >= 1")
    if n_samples < window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_samples - window + 1, hop, dtype=np.int64)


def vectorize(
    stream: np.ndarray, spec: VectorSpec, hop: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a complex stream as the block does and transform every window.

    Returns (vectors, flags, starts): starts are the input offsets of each
    window's first sample, the values of the block's amc_window tags.
    """
    x = np.asarray(stream).ravel()
    starts = window_starts(len(x), spec.window, spec.window if hop is None else hop)
    idx = starts[:, None] + np.arange(spec.window)[None, :]
    vectors, flags = transform(x[idx] if len(starts) else np.zeros((0, spec.window), complex), spec)
    return vectors, flags, starts


# The largest deviation from the normalization's invariant (unit energy, unit mean power,
# unit peak, unit L1 norm) a vector made by the vectorizer or transform() shows: float32
# rounding over a window of at most a few thousand samples, with room to spare.
NORM_TOLERANCE = 1e-2
UNNORMALIZED = "unnormalized"  # a vector that no vectorizer with the spec could have made


def check_vectors(vectors: np.ndarray, spec: VectorSpec) -> np.ndarray:
    """Flags (OK, NONFINITE, SILENT, UNNORMALIZED) of float vectors (n, spec.vlen) said to
    come from a vectorizer with `spec`: the classifier's check of what it is fed, so that a
    vector of zeros or of 1e30 is never given a label. All-zero vectors are the vectorizer's
    silent (and NaN/Inf) windows; mag_fft and "none" carry no invariant to check."""
    v = np.asarray(vectors, np.float64).reshape(len(vectors), -1)
    flags = np.full(len(v), OK, dtype=object)
    finite = np.isfinite(v).all(axis=1)
    flags[~finite] = NONFINITE
    v = np.where(finite[:, None], v, 0.0)
    silent = finite & ~v.any(axis=1)
    flags[silent] = SILENT
    if spec.representation == "mag_fft" or spec.normalization == "none":
        return flags
    if spec.layout == "channels_first":
        pairs = v.reshape(len(v), 2, spec.window)
    else:
        pairs = v.reshape(len(v), spec.window, 2).transpose(0, 2, 1)
    if spec.representation == "iq":
        amp = np.hypot(pairs[:, 0], pairs[:, 1])
        in_range = np.ones(len(v), bool)
    else:  # amp_phase: amplitude >= 0 and phase / pi in [-1, 1]
        amp = pairs[:, 0]
        in_range = (amp >= 0).all(axis=1) & (np.abs(pairs[:, 1]) <= 1 + 1e-6).all(axis=1)
    measure = {
        "l2": lambda a: (a**2).sum(axis=1),
        "rms": lambda a: (a**2).mean(axis=1),
        "peak": lambda a: a.max(axis=1),
        "l1": lambda a: a.sum(axis=1),
    }[spec.normalization](amp)
    wrong = finite & ~silent & (~in_range | (np.abs(measure - 1.0) > NORM_TOLERANCE))
    flags[wrong] = UNNORMALIZED
    return flags
