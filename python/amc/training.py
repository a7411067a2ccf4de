# SPDX-License-Identifier: GPL-3.0-or-later
"""Train zoo models on RadioML-style files the way the papers do, and evaluate them.

Data go through gnuradio.amc.features, the numpy twin of the vectorizer, so a model
sees in training exactly what the GNU Radio block gives it at run time. Files are
read block by block, so RML2018-size files need not fit in memory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator

import numpy as np

from . import dataset, features, models, signals

SPLIT = (0.6, 0.2, 0.2)
# Files are sorted by class and SNR. Batches are drawn from groups of BLOCKS_MIXED
# random blocks of BLOCK_ROWS contiguous rows: small blocks keep every batch a mix of
# classes and SNRs, contiguous ones keep HDF5 reads efficient.
BLOCK_ROWS = 64
BLOCKS_MIXED = 256
# HDF5 sets smaller than this are read into memory (random rows from memory are free).
IN_MEMORY_BYTES = 2 << 30


# --------------------------------------------------------------------------- data


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
    for names in (signals.RML2016_CLASSES, signals.RML2018_CLASSES):
        if len(names) == n:
            return list(names)
    return [f"class{i}" for i in range(n)]


def open_data(path: str, length: int | None = None) -> Data:
    """Open an HDF5 (RML2018 layout) or pickle (RML2016 layout) dataset."""
    with open(path, "rb") as f:
        is_hdf5 = f.read(4) == b"\x89HDF"
    if is_hdf5:
        import h5py

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
    raw = dataset.read_pickle(path)
    mods = sorted({m for m, _ in raw})
    ordered = [c for c in signals.RML2016_CLASSES if c in mods]
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


# --------------------------------------------------------------------------- training


@dataclasses.dataclass
class TrainConfig:
    model: str
    data: str
    out: str
    length: int | list[int] | None = None  # several: variable-length models train on all
    epochs: int = 200
    batch: int = 400
    lr: float = 1e-3
    lr_patience: int = 5
    stop_patience: int = 50
    seed: int = 0
    augment: Augment = dataclasses.field(default_factory=Augment)
    max_train: int | None = None  # cap on training vectors (quick runs)
    snr_min: float | None = None  # train and validate on this SNR range only (test: all SNRs)
    snr_max: float | None = None
    init: str | None = None  # start from the weights of this run (fine-tuning, curricula)

    def lengths(self) -> list:
        return list(self.length) if isinstance(self.length, (list, tuple)) else [self.length]

    def check(self):
        if self.model not in models.MODELS:
            raise ValueError(f"model {self.model!r} is not one of: {', '.join(models.MODELS)}")
        if not os.path.isfile(self.data):
            raise ValueError(f"data: {self.data} is not a file")
        for name in ("epochs", "batch", "lr_patience", "stop_patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} {getattr(self, name)} must be >= 1")
        if not self.lr > 0:
            raise ValueError(f"lr {self.lr} must be > 0")
        if self.snr_min is not None and self.snr_max is not None and self.snr_min > self.snr_max:
            raise ValueError(f"snr_min {self.snr_min} is above snr_max {self.snr_max}")
        if self.init is not None and not os.path.isfile(os.path.join(self.init, "train.json")):
            raise ValueError(f"init: {self.init} is not a finished run (no train.json)")


def train(cfg: TrainConfig, resume: bool = False, command: str = "", log=print) -> dict:
    """Train one zoo model; writes model.keras, train.json and curves.png into cfg.out."""
    import keras

    cfg.check()
    lengths = cfg.lengths()
    entry = models.MODELS[cfg.model]
    if len(lengths) > 1 and not entry.variable_length:
        raise ValueError(f"length: model {cfg.model} takes one length, not {lengths}")
    parts = [open_data(cfg.data, n) for n in lengths]  # one Data per vector length
    data = parts[0]
    spec = entry.spec(data.length)
    os.makedirs(cfg.out, exist_ok=True)
    train_sets = []
    for k, d in enumerate(parts):
        t_idx, v_idx, _ = split(d, cfg.seed)
        lo = -np.inf if cfg.snr_min is None else cfg.snr_min
        hi = np.inf if cfg.snr_max is None else cfg.snr_max
        t_idx, v_idx = (i[(d.snr[i] >= lo) & (d.snr[i] <= hi)] for i in (t_idx, v_idx))
        if not len(t_idx) or not len(v_idx):
            raise ValueError(f"snr_min/snr_max: no vectors of length {d.length} between {lo} and {hi} dB")
        if cfg.max_train:
            t_idx = np.sort(np.random.default_rng(cfg.seed).permutation(t_idx)[: cfg.max_train // len(parts)])
            v_idx = np.sort(
                np.random.default_rng(cfg.seed + 1).permutation(v_idx)[: max(1, cfg.max_train // 3)]
            )
        train_sets.append(t_idx)
        if k == 0:
            val_idx = v_idx  # validation on the first length (Keras takes one array)
    keras.utils.set_random_seed(cfg.seed)
    model = models.build(cfg.model, len(data.classes), None if entry.variable_length else data.length)
    if cfg.init:
        with open(os.path.join(cfg.init, "train.json")) as f:
            start = json.load(f)
        if start["model"] != cfg.model or start["classes"] != data.classes:
            raise ValueError(f"init: {cfg.init} is a {start['model']} run for classes {start['classes']}, "
                             f"not {cfg.model} for {data.classes}")  # fmt: skip
        model.set_weights(
            keras.saving.load_model(os.path.join(cfg.init, "model.keras"), safe_mode=True).get_weights()
        )
    model.compile(
        optimizer=keras.optimizers.Adam(cfg.lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    rng = np.random.default_rng(cfg.seed)
    val_x, _ = features.transform(data.windows(val_idx), spec)
    val = (val_x, data.y[val_idx])
    batch = min([cfg.batch, *map(len, train_sets)])

    def epochs_of_batches():
        """Batches of every length, interleaved at random (each batch one length)."""
        while True:
            gens = [batches(d, t, entry.spec(d.length), batch, rng, cfg.augment)
                    for d, t in zip(parts, train_sets, strict=True)]  # fmt: skip
            order = np.concatenate([np.full(len(t) // batch, k) for k, t in enumerate(train_sets)])
            for k in rng.permutation(order):
                yield next(gens[k])

    import tensorflow as tf

    # tf.data runs the generator (reading, augmenting, transforming) in its own thread
    # while the model trains on the previous batches.
    shape = (batch, *spec.shape) if len(parts) == 1 else (batch, None, spec.shape[-1])
    stream = tf.data.Dataset.from_generator(
        epochs_of_batches,
        output_signature=(tf.TensorSpec(shape, tf.float32), tf.TensorSpec((batch,), tf.int64)),
    ).prefetch(4)

    backup = os.path.join(cfg.out, "backup")
    if not resume and os.path.isdir(backup):
        raise ValueError(f"out: {cfg.out} holds an unfinished run; pass --resume to continue it")
    run_files = run_files_callback(cfg.out, resume)
    initial_epoch = restore_backup(model, backup) if resume else 0
    run_files.forget_from(
        initial_epoch,
        best_loss=lambda: keras.saving.load_model(run_files.best_path, safe_mode=True).evaluate(
            *val, batch_size=batch, verbose=0, return_dict=True
        )["loss"],
    )
    callbacks = [
        keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=cfg.lr_patience),
        keras.callbacks.EarlyStopping("val_loss", patience=cfg.stop_patience),
        run_files,
    ]
    steps = sum(len(t) // batch for t in train_sets)
    log(f"training {cfg.model} ({model.count_params():,} parameters) on {sum(map(len, train_sets)):,} vectors"
        f" of length {'/'.join(str(d.length) for d in parts)}, "
        f"validating on {len(val_idx):,}; {steps} steps/epoch")  # fmt: skip
    model.fit(
        stream,
        steps_per_epoch=steps,
        epochs=cfg.epochs,
        initial_epoch=initial_epoch,
        validation_data=val,
        validation_batch_size=batch,
        callbacks=callbacks,
        shuffle=False,  # batches() shuffles
        verbose=2,
    )
    model = keras.saving.load_model(os.path.join(cfg.out, "best.keras"), safe_mode=True)
    model.save(os.path.join(cfg.out, "model.keras"))
    _rmtree(backup)
    epochs = [run_files.epochs[k] for k in sorted(run_files.epochs)]
    seconds = [e["seconds"] for e in epochs]
    summary = {
        "model": cfg.model,
        "params": int(model.count_params()),
        "classes": data.classes,
        "spec": dataclasses.asdict(spec),
        "variable_length": entry.variable_length,
        "lengths": [d.length for d in parts],
        "data": os.path.abspath(cfg.data),
        "data_sha256": dataset.file_sha256(cfg.data),
        "data_attrs": {
            "snr_range": [
                int(max(data.snr.min(), cfg.snr_min if cfg.snr_min is not None else -np.inf)),
                int(min(data.snr.max(), cfg.snr_max if cfg.snr_max is not None else np.inf)),
            ],  # fmt: skip
            **{
                k: data.attrs[k] for k in ("sps", "channel", "snr_definition", "generator") if k in data.attrs
            },
        },
        "seed": cfg.seed,
        "config": {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("model", "data", "out")},
        "command": command,
        "epochs_run": len(epochs),
        "seconds_per_epoch": float(np.median(seconds)) if seconds else None,
        "history": {
            k: [e.get(k) for e in epochs]
            for k in sorted({k for e in epochs for k in e} - {"epoch", "seconds"})
        },
    }
    write_json(os.path.join(cfg.out, "train.json"), summary)
    plot_history(summary["history"], os.path.join(cfg.out, "curves.png"), cfg.model)
    return summary


def _rmtree(path):
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def write_text(path: str, text: str) -> None:
    with dataset.AtomicFile(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def run_files_callback(out: str, resume: bool):
    """The Keras callback that keeps a run's files at the end of every epoch, in an order that
    leaves them usable wherever the run is killed (an epoch killed before its backup is run
    again and its files rewritten):
    - best.keras, the model of the lowest validation loss so far (replaced whole, never written
      in place; after a resume only a loss below the best before it replaces it);
    - epochs.json, each epoch's metrics and wall time (the s/epoch column of the tables) by
      epoch number, so that a resumed run's history holds the epochs before the resume too;
    - backup/, the weights and optimizer state for `--resume` (save_backup)."""
    import keras

    class _RunFiles(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best_path = os.path.join(out, "best.keras")
            self.log_path = os.path.join(out, "epochs.json")
            self.epochs = read_epoch_log(self.log_path) if resume else {}

        def forget_from(self, epoch: int, best_loss=None) -> None:
            """Drop records of epochs the backup does not hold (they are run again). A run begun
            before epochs.json existed has no records: then `best_loss()`, the validation loss
            of its best.keras, is the one to beat (an unknown best let a worse epoch replace it)."""
            self.epochs = {k: e for k, e in self.epochs.items() if k < epoch}
            losses = [e["val_loss"] for e in self.epochs.values() if "val_loss" in e]
            if epoch > 0 and not losses and best_loss is not None and os.path.exists(self.best_path):
                losses = [float(best_loss())]
            self.best = min(losses, default=np.inf)

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            record = {k: float(v) for k, v in (logs or {}).items()}
            if record.get("val_loss", np.inf) < self.best:
                self.best = record["val_loss"]
                partial = os.path.join(out, "partial.keras")
                self.model.save(partial)
                os.replace(partial, self.best_path)
            self.epochs[epoch] = {"epoch": epoch, **record, "seconds": time.perf_counter() - self.t0}
            write_json(self.log_path, [self.epochs[k] for k in sorted(self.epochs)])
            save_backup(self.model, os.path.join(out, "backup"), epoch + 1)

    return _RunFiles()


def save_backup(model, backup: str, epochs_done: int) -> None:
    """Weights and optimizer state after `epochs_done` epochs, for `--resume`. Every step leaves
    a loadable backup (a new weights file, then the state naming it, then the old file removed):
    Keras' BackupAndRestore overwrote its one file in place, and a run killed while it was being
    written could not be resumed."""
    os.makedirs(backup, exist_ok=True)
    name = f"epoch{epochs_done}.weights.h5"
    partial = os.path.join(backup, "partial.weights.h5")
    model.save_weights(partial, overwrite=True)
    os.replace(partial, os.path.join(backup, name))
    write_json(os.path.join(backup, "state.json"), {"epochs_done": epochs_done, "weights": name})
    for f in os.listdir(backup):
        if f != name and (f.endswith(".weights.h5") or f == "training_metadata.json"):
            os.remove(os.path.join(backup, f))


def restore_backup(model, backup: str) -> int:
    """Load an interrupted run's last backup into the compiled `model`; the epochs it had done
    (0 when there is none)."""
    state = os.path.join(backup, "state.json")
    keras_state = os.path.join(backup, "training_metadata.json")  # BackupAndRestore's, older runs
    if os.path.exists(state):
        with open(state) as f:
            s = json.load(f)
        done, weights = int(s["epochs_done"]), os.path.join(backup, s["weights"])
    elif os.path.exists(keras_state):
        with open(keras_state) as f:
            done, weights = int(json.load(f)["epoch"]), os.path.join(backup, "latest.weights.h5")
    else:
        return 0
    model.optimizer.build(model.trainable_variables)  # its state is in the weights file
    model.load_weights(weights)
    return done


def read_epoch_log(path: str) -> dict[int, dict]:
    """The per-epoch records of a run so far, by epoch number (empty for a new run)."""
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {int(e["epoch"]): e for e in json.load(f)}


def write_json(path: str, obj) -> None:
    write_text(path, json.dumps(obj, indent=1))


def _save_png(fig, path: str) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with dataset.AtomicFile(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


# --------------------------------------------------------------------------- evaluation


def evaluate_run(run_dir: str, data: Data | None = None, test_idx=None) -> dict:
    """Accuracy of a trained run on its test split, per SNR and per class."""
    import keras

    with open(os.path.join(run_dir, "train.json")) as f:
        info = json.load(f)
    data = data or open_data(info["data"], info["spec"]["window"])
    if test_idx is None:
        _, _, test_idx = split(data, info["seed"])
    model = keras.saving.load_model(os.path.join(run_dir, "model.keras"), safe_mode=True)
    spec = features.VectorSpec(**{**info["spec"], "window": data.length})
    probs, seconds = predict(model, data, test_idx, spec)
    pred = probs.argmax(axis=1)
    truth, snr = data.y[test_idx], data.snr[test_idx]
    snrs = sorted(set(snr.tolist()))
    per_snr = _per_snr(pred == truth, snr)
    n = len(data.classes)
    confusion = {s: np.zeros((n, n), np.int64) for s in snrs}
    for s, t, p in zip(snr, truth, pred, strict=True):
        confusion[s][t, p] += 1
    return {
        "name": info["model"],
        "run": run_dir,
        "params": info["params"],
        "seconds_per_epoch": info.get("seconds_per_epoch"),
        "ms_per_sample": 1000 * seconds / len(test_idx),
        "per_snr": per_snr,
        "highest": max(per_snr.values()),
        "average": float(np.mean(list(per_snr.values()))),
        "per_class": {c: float(np.mean(pred[truth == i] == i)) for i, c in enumerate(data.classes)},
        "confusion": confusion,
        "classes": data.classes,
        "overall": float(np.mean(pred == truth)),
        "length": data.length,
        "per_sps": {}
        if data.sps is None
        else {
            int(k): _per_snr((pred == truth)[data.sps[test_idx] == k], snr[data.sps[test_idx] == k])
            for k in np.unique(data.sps[test_idx])
        },  # fmt: skip
    }


def _per_snr(right: np.ndarray, snr: np.ndarray) -> dict:
    return {int(s): float(np.mean(right[snr == s])) for s in sorted(set(snr.tolist()))}


def bundle_evaluation(run_dir: str, unseen: list[str] = (), log=print) -> dict:
    """What a bundle records of its model: the test split at every trained length (the
    first is the headline) and, for variable-length models, all of files of lengths it
    never saw (004's length-64 experiment)."""
    with open(os.path.join(run_dir, "train.json")) as f:
        info = json.load(f)

    def brief(r):
        out = {"overall": r["overall"], "highest": r["highest"], "average": r["average"],
               "per_snr": r["per_snr"], "per_class": r["per_class"]}  # fmt: skip
        out.update({f"per_snr_{k}sps": v for k, v in r["per_sps"].items()} if len(r["per_sps"]) > 1 else {})
        return out

    per_length = {}
    for n in info.get("lengths") or [info["spec"]["window"]]:
        data = open_data(info["data"], n)
        r = evaluate_run(run_dir, data, split(data, info["seed"])[2])
        per_length[n] = {"split": "test (6:2:2 per class and SNR, the run's seed)", **brief(r)}
        log(f"length {n}: highest {100 * r['highest']:.2f} %, average {100 * r['average']:.2f} %")
    for path in unseen:
        data = open_data(path)
        r = evaluate_run(run_dir, data, np.arange(len(data)))
        per_length[data.length] = {
            "split": f"all of {os.path.basename(path)} (length not trained on)",
            **brief(r),
        }
        log(f"length {data.length} (unseen): highest {100 * r['highest']:.2f} %, "
            f"average {100 * r['average']:.2f} %")  # fmt: skip
    first = next(iter(per_length.values()))
    return first if len(per_length) == 1 else {**first, "per_length": per_length}


def write_tables(out: str, head: list[str], rows: list[list[str]]) -> None:
    """table.md and table.csv in `out` (CSV without thousands separators)."""
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + [
        "| " + " | ".join(r) + " |" for r in rows
    ]
    csv = [",".join(c.replace(",", "") for c in r) for r in [head, *rows]]
    write_text(os.path.join(out, "table.md"), "\n".join(md) + "\n")
    write_text(os.path.join(out, "table.csv"), "\n".join(csv) + "\n")


def write_table(results: list[dict], out: str) -> None:
    """002's Table I for the evaluated runs."""
    head = ["model", "parameters", "training s/epoch", "test ms/sample", "highest", "average"]
    rows = []
    for r in results:
        spe = r["seconds_per_epoch"]
        rows.append(
            [
                r["name"],
                f"{r['params']:,}",
                "-" if spe is None else f"{spe:.1f}",
                f"{r['ms_per_sample']:.3f}",
                f"{100 * r['highest']:.2f}%",
                f"{100 * r['average']:.2f}%",
            ]  # fmt: skip
        )
    write_tables(out, head, rows)


def plot_history(history: dict, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        a.plot(history.get(key, []), label=key)
    for key in ("accuracy", "val_accuracy"):
        b.plot(history.get(key, []), label=key)
    a.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss")
    b.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy")
    for ax in (a, b):
        ax.grid(True)
        ax.legend()
    _save_png(fig, path)


def plot_accuracy(results: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in results:
        snrs = sorted(r["per_snr"])
        ax.plot(snrs, [100 * r["per_snr"][s] for s in snrs], marker="o", label=r["name"])
    ax.set(xlabel="SNR label (dB)", ylabel="accuracy (%)", title="Accuracy against SNR", ylim=(0, 100))
    ax.grid(True)
    ax.legend()
    _save_png(fig, path)


def plot_confusion(result: dict, snr: int, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = result["confusion"][snr].astype(float)
    m /= np.maximum(1, m.sum(axis=1, keepdims=True))
    n = len(result["classes"])
    fig, ax = plt.subplots(figsize=(max(4.0, 1 + 0.45 * n), max(3.5, 1 + 0.4 * n)))
    ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), result["classes"], rotation=90)
    ax.set_yticks(range(n), result["classes"])
    for i in range(n):
        for j in range(n):
            if m[i, j] >= 0.01:
                ax.text(j, i, f"{100 * m[i, j]:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if m[i, j] > 0.5 else "black")  # fmt: skip
    ax.set(xlabel="predicted", ylabel="true", title=f"{result['name']} at {snr} dB")
    _save_png(fig, path)


def run_labels(run_dirs: list[str]) -> dict[str, str]:
    """Each run's name in tables, plots and file names: its model, or where two runs of one model
    are compared (with and without augmentation, two seeds), its directory."""
    model = {}
    for run in run_dirs:
        with open(os.path.join(run, "train.json")) as f:
            model[run] = json.load(f)["model"]
    dirs = {run: os.path.basename(os.path.normpath(run)) for run in run_dirs}
    unique = len(set(dirs.values())) == len(run_dirs)
    return {
        run: model[run] if list(model.values()).count(model[run]) == 1
        else dirs[run] if unique else os.path.normpath(run).replace(os.sep, "_")
        for run in run_dirs
    }  # fmt: skip


def evaluate(
    run_dirs: list[str], out: str, confusion_snrs=(), log=print, data: str | None = None, length=None
) -> list[dict]:
    """Evaluate several runs on the same test split (or on all of `data`); writes the
    table (Markdown, CSV), accuracy.png and confusion PNGs into `out`. A run trained on
    several lengths is tested at each (one row and curve per length, named "model (N)");
    where the data hold several sps, accuracy_per_sps.png has a curve per sps too."""
    os.makedirs(out, exist_ok=True)
    results = []
    other = open_data(data, length) if data else None
    labels = run_labels(run_dirs)
    for run in run_dirs:
        if other is not None:
            found = [{**evaluate_run(run, other, np.arange(len(other))), "name": labels[run]}]
        else:
            with open(os.path.join(run, "train.json")) as f:
                info = json.load(f)
            lengths = info.get("lengths") or [info["spec"]["window"]]
            found = []
            for n in lengths:
                d = open_data(info["data"], n)
                name = labels[run] if len(lengths) == 1 else f"{labels[run]} ({n})"
                found.append({**evaluate_run(run, d, split(d, info["seed"])[2]), "name": name})
        for r in found:
            results.append(r)
            log(f"{r['name']}: highest {100 * r['highest']:.2f}%, average {100 * r['average']:.2f}%")
            for s in confusion_snrs:
                if s in r["confusion"]:
                    name = r["name"].replace(" (", "_").replace(")", "")
                    plot_confusion(r, s, os.path.join(out, f"confusion_{name}_{s}dB.png"))
    write_table(results, out)
    plot_accuracy(results, os.path.join(out, "accuracy.png"))
    per_snr = {r["name"]: {str(k): v for k, v in r["per_snr"].items()} for r in results}
    by_sps = [{"name": f"{r['name']} {k} sps", "per_snr": v} for r in results if len(r["per_sps"]) > 1
              for k, v in r["per_sps"].items()]  # fmt: skip
    if by_sps:
        plot_accuracy(by_sps, os.path.join(out, "accuracy_per_sps.png"))
        per_snr.update({c["name"]: {str(k): v for k, v in c["per_snr"].items()} for c in by_sps})
    write_json(os.path.join(out, "accuracy.json"), per_snr)
    return results


# --------------------------------------------------------------------------- quantisation


def quantize(run_dir: str, out: str, calibration: int = 512, log=print) -> dict:
    """Post-training int8 quantisation of a run (004, section VI-E): float32, int8 and
    int8-weights LiteRT bundles side by side in `out`, each tested on the run's test split
    (at every trained length, for a variable-length run); writes table.md, table.csv and
    accuracy.json there."""
    from . import bundle

    if calibration < 1:
        raise ValueError(f"calibration: {calibration} vectors cannot calibrate int8 ranges (need >= 1)")
    with open(os.path.join(run_dir, "train.json")) as f:
        info = json.load(f)
    spec = features.VectorSpec(**info["spec"])
    lengths = info.get("lengths") or [spec.window]
    calib, tests = {}, {}
    for n in lengths:
        s = dataclasses.replace(spec, window=n)
        data = open_data(info["data"], n)
        train_idx, _, test_idx = split(data, info["seed"])
        rng = np.random.default_rng(info["seed"])
        calib_idx = np.sort(rng.choice(train_idx, min(calibration, len(train_idx)), replace=False))
        calib[n], _ = features.transform(data.windows(calib_idx), s)
        vectors, _ = features.transform(data.windows(test_idx), s)
        tests[n] = vectors, data.y[test_idx], data.snr[test_idx]
    os.makedirs(out, exist_ok=True)
    rows = {}
    for kind, quantization in (("float32", "none"), ("int8", "int8"), ("int8-weights", "int8-weights")):
        path = os.path.join(out, kind)
        bundle.export(run_dir, path, lengths=lengths, force=True, quantization=quantization,
                      int8_calibration=calib)  # fmt: skip
        b = bundle.load(path)
        for n, (vectors, truth, snr) in tests.items():
            t0 = time.perf_counter()
            pred = b.runner(n).predict(vectors).argmax(axis=1)
            ms = 1000 * (time.perf_counter() - t0) / len(vectors)
            per_snr = _per_snr(pred == truth, snr)
            size = os.path.getsize(os.path.join(path, b.meta["input"]["files"][n]["file"]))
            name = kind if len(lengths) == 1 else f"{kind} ({n})"
            average = float(np.mean(list(per_snr.values())))
            r = rows[name] = {"per_snr": per_snr, "highest": max(per_snr.values()), "average": average,
                              "bytes": size, "ms_per_sample": ms}  # fmt: skip
            log(f"{name}: highest {100 * r['highest']:.2f}%, average {100 * r['average']:.2f}%, "
                f"{size / 1024:.0f} KiB, {ms:.3f} ms/sample")  # fmt: skip
    head = ["model", "LiteRT file (KiB)", "test ms/sample", "highest", "average"]
    body = [
        [
            f"{info['model']} {k}",
            f"{r['bytes'] / 1024:.0f}",
            f"{r['ms_per_sample']:.3f}",
            f"{100 * r['highest']:.2f}%",
            f"{100 * r['average']:.2f}%",
        ]  # fmt: skip
        for k, r in rows.items()
    ]
    write_tables(out, head, body)
    write_json(
        os.path.join(out, "accuracy.json"),
        {k: {str(s): v for s, v in r["per_snr"].items()} for k, r in rows.items()},
    )
    return rows
