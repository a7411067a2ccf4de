# SPDX-License-Identifier: GPL-3.0-or-later
"""Training data from dataset files: opening, the papers' 6:2:2 split, augmentation, batches.

Data go through runtime.features, the numpy twin of the vectorizer, so a model sees in
training exactly what the GNU Radio block gives it at run time. Files are read block by
block, so RML2018-size files need not fit in memory.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import h5py
import numpy as np

from ..datasets import readers, synthetic
from ..datasets.generate import NOISE_FREE_SNR
from ..runtime import features, waveforms

SPLIT = (0.6, 0.2, 0.2)


# Files are sorted by class and SNR. Batches are drawn from groups of BLOCKS_MIXED
# random blocks of BLOCK_ROWS contiguous rows: small blocks keep every batch a mix of
# classes and SNRs, contiguous ones keep HDF5 reads efficient.
BLOCK_ROWS = 64


BLOCKS_MIXED = 256


# HDF5 sets smaller than this are read into memory (random rows from memory are free).
IN_MEMORY_BYTES = 2 << 30
# A run trained on generated windows names its data "generate:PRESET" (train.json's data).
GENERATED = "generate:"
# Seeds of the generated sets, offset from the run's seed: validation and test never
# share a window with the training stream (its batches are seeded [seed, step]).
VALIDATION_SEED, TEST_SEED, CALIBRATION_SEED = 1_000_003, 2_000_003, 3_000_003


@dataclasses.dataclass
class Data:
    """A dataset file opened for training: labels in memory, vectors read on demand."""

    path: str
    classes: list[str]
    y: np.ndarray  # (n,) class index
    snr: np.ndarray  # (n,) SNR label in dB
    length: int
    x: object  # (n, L, 2) float32: numpy array or h5py dataset
    attrs: dict = dataclasses.field(default_factory=dict)  # what the file says of itself
    sps: np.ndarray | None = None  # (n,) samples per symbol, where the file records it

    def __len__(self):
        return len(self.y)

    def windows(self, idx: np.ndarray) -> np.ndarray:
        """Complex windows (k, L) of the rows idx (read in sorted order)."""
        order = np.argsort(idx)
        rows = np.asarray(self.x[np.asarray(idx)[order]])
        out = np.empty((len(idx), self.length), np.complex64)
        out[order] = rows[..., 0] + 1j * rows[..., 1]
        return out


def _default_classes(n: int) -> list[str]:
    for names in (waveforms.RML2016_CLASSES, waveforms.RML2018_CLASSES):
        if len(names) == n:
            return list(names)
    return [f"class{i}" for i in range(n)]


def file_lengths(path: str) -> list[int]:
    """The vector lengths a dataset file holds (without reading its vectors where it can)."""
    with open(path, "rb") as f:
        is_hdf5 = f.read(4) == b"\x89HDF"
    if not is_hdf5:
        return [open_data(path).length]
    with h5py.File(path, "r") as f:
        return [f["X"].shape[1]] if "X" in f else sorted(int(k[1:]) for k in f if k.startswith("L"))


def open_data(path: str, length: int | None = None) -> Data:
    """Open an HDF5 (RML2018 layout) or pickle (RML2016 layout) dataset."""
    with open(path, "rb") as f:
        is_hdf5 = f.read(4) == b"\x89HDF"
    if is_hdf5:
        f = h5py.File(path, "r")
        group = f
        if "X" not in f:
            lengths = sorted(int(k[1:]) for k in f if k.startswith("L"))
            if length is None or f"L{length}" not in f:
                raise ValueError(f"{path} holds lengths {lengths}: choose one with --length")
            group = f[f"L{length}"]
        y = np.argmax(group["Y"][()], axis=1)
        classes = [str(c) for c in f.attrs["classes"]] if "classes" in f.attrs else None
        classes = classes or _default_classes(group["Y"].shape[1])
        x = group["X"]
        if x.size * x.dtype.itemsize <= IN_MEMORY_BYTES:
            x = x[()]
        attrs = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}
        sps = group["sps"][()] if "sps" in group else None
        return Data(path, classes, y, group["Z"][:, 0].astype(int), x.shape[1], x, attrs, sps)
    raw = readers.read_pickle(path)
    mods = sorted({m for m, _ in raw})
    ordered = [c for c in waveforms.RML2016_CLASSES if c in mods]
    classes = ordered if len(ordered) == len(mods) else mods
    keys = sorted(raw, key=lambda k: (classes.index(k[0]), k[1]))
    x = np.concatenate([raw[k] for k in keys]).transpose(0, 2, 1).copy()
    y = np.concatenate([np.full(len(raw[k]), classes.index(k[0])) for k in keys])
    snr = np.concatenate([np.full(len(raw[k]), k[1]) for k in keys])
    return Data(path, classes, y, snr, x.shape[1], x)


def split(data: Data, seed: int, fractions=SPLIT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random 6:2:2 split inside every (class, SNR) cell, the same for every model."""
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    cells = data.y.astype(np.int64) * 10_000 + (data.snr - data.snr.min())
    for cell in np.unique(cells):
        idx = np.flatnonzero(cells == cell)
        rng.shuffle(idx)
        a = int(round(fractions[0] * len(idx)))
        b = a + int(round(fractions[1] * len(idx)))
        for part, chunk in zip(parts, (idx[:a], idx[a:b], idx[b:]), strict=True):
            part.append(chunk)
    return tuple(np.sort(np.concatenate(p)) for p in parts)


@dataclasses.dataclass(frozen=True)
class Augment:
    """Random impairments per vector that make a model robust to other generators."""

    phase: bool = False  # uniform carrier phase
    freq: float = 0.0  # frequency offset, uniform in [-freq, freq] cycles/sample
    shift: int = 0  # circular time shift, uniform in [-shift, shift] samples

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.phase or self.freq:
            n = np.arange(x.shape[1])
            ph = rng.uniform(0, 2 * np.pi, (len(x), 1)) if self.phase else 0.0
            f = rng.uniform(-self.freq, self.freq, (len(x), 1)) if self.freq else 0.0
            x = x * np.exp(1j * (ph + 2 * np.pi * f * n)).astype(np.complex64)
        if self.shift:
            shifts = rng.integers(-self.shift, self.shift + 1, len(x))
            x = np.stack([np.roll(row, s) for row, s in zip(x, shifts, strict=True)])
        return x


def batches(
    data: Data, idx: np.ndarray, spec: features.VectorSpec, batch: int, rng, augment: Augment | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (vectors, labels) batches in random order, read block by block.

    Every batch holds exactly `batch` rows (the model then trains on a fixed shape,
    which runs recurrent layers twice as fast on CPU); the len(idx) % batch rows left
    over are a different random few each epoch.
    """
    blocks = [idx[i : i + BLOCK_ROWS] for i in range(0, len(idx), BLOCK_ROWS)]
    order = rng.permutation(len(blocks))
    groups = [
        np.concatenate([blocks[b] for b in order[g : g + BLOCKS_MIXED]])
        for g in range(0, len(order), BLOCKS_MIXED)
    ]
    rows = np.concatenate([g[rng.permutation(len(g))] for g in groups])
    for i in range(0, len(rows) - batch + 1, batch):
        part = rows[i : i + batch]
        w = data.windows(part)
        if augment is not None:
            w = augment(w, rng)
        vectors, _ = features.transform(w, spec)
        yield vectors, data.y[part]


def predict(model, data: Data, idx: np.ndarray, spec: features.VectorSpec, batch: int = 1024):
    """Probabilities (len(idx), C) in the order of idx, and the seconds the model took."""
    out, seconds = [], 0.0
    for i in range(0, len(idx), batch):
        part = idx[i : i + batch]
        vectors, _ = features.transform(data.windows(part), spec)
        t0 = time.perf_counter()
        out.append(np.asarray(model(vectors, training=False)))
        seconds += time.perf_counter() - t0
    return np.concatenate(out), seconds


def synthetic_data(ranges: synthetic.Ranges, n: int, length: int, seed: int, name: str = "") -> Data:
    """n generated windows (datasets.synthetic) in memory, classes balanced, as a Data whose
    SNR labels are the per-sample SNR rounded to 2 dB (NOISE_FREE_SNR for no noise)."""
    labels = np.arange(n) % len(ranges.classes)
    parts = [synthetic.batch(ranges, len(chunk), length, seed, i, classes=chunk)
             for i, chunk in enumerate(np.array_split(labels, max(1, n // 1024)))]  # fmt: skip
    w = np.concatenate([p.windows for p in parts])
    snr = np.concatenate([p.snr_db for p in parts])
    snr = np.where(np.isfinite(snr), 2 * np.round(np.nan_to_num(snr, posinf=0.0) / 2), NOISE_FREE_SNR)
    x = np.stack([w.real, w.imag], axis=-1).astype(np.float32)
    sps = np.concatenate([p.sps for p in parts])
    return Data(GENERATED + name, list(ranges.classes), np.concatenate([p.labels for p in parts]),
                snr.astype(int), length, x, {"generator": "gr-amc synthetic"}, sps)  # fmt: skip


def soft_labels(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """One-hot targets, and equal probabilities for synthetic.OUTLIER windows (outlier exposure)."""
    out = np.zeros((len(labels), n_classes), np.float32)
    known = labels >= 0
    out[np.flatnonzero(known), labels[known]] = 1.0
    out[~known] = 1.0 / n_classes
    return out


def generated_batches(
    ranges, specs: list[features.VectorSpec], batch: int, seed: int, first: int
) -> Iterator:
    """The endless training stream of a generated run: batch number first, first + 1, ...
    (seeded [seed, number]: a resumed run continues the stream where it stopped), batch k of
    length specs[k % len(specs)] (variable-length models: every length in turn). Labels are
    class indices, or soft targets (soft_labels) when the preset has outliers."""
    index = first
    while True:
        spec = specs[index % len(specs)]
        b = synthetic.batch(ranges, batch, spec.window, seed, index)
        vectors, _ = features.transform(b.windows, spec)
        yield vectors, (soft_labels(b.labels, len(ranges.classes)) if ranges.outliers else b.labels)
        index += 1


def run_test_data(data: str, seed: int, length: int, test_windows: int = 22_000) -> tuple[Data, np.ndarray]:
    """The test set of a run and its rows: the test split of its file, or (generated runs)
    a fresh generated set that no training or validation batch shares."""
    if data.startswith(GENERATED):
        name = data[len(GENERATED) :]
        d = synthetic_data(synthetic.preset(name), test_windows, length, seed + TEST_SEED, name)
        return d, np.arange(len(d))
    d = open_data(data, length)
    return d, split(d, seed)[2]
