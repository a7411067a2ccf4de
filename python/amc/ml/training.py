# SPDX-License-Identifier: GPL-3.0-or-later
"""amc train: one zoo model trained the way the papers do, killable and resumable at any moment."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
import yaml

from ..datasets import synthetic
from ..datasets.readers import file_sha256
from ..runtime import bundle, features
from ..runtime.atomic import write_json, write_text
from . import models, record
from .data import (
    GENERATED,
    VALIDATION_SEED,
    Augment,
    Data,
    batches,
    file_lengths,
    generated_batches,
    open_data,
    soft_labels,
    split,
    synthetic_data,
)
from .evaluation import plot_history
from .record import TrainRecord


@dataclasses.dataclass
class TrainConfig:
    model: str
    data: str | None  # a dataset file, or None with `generate`
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
    # Generated training data (datasets.synthetic): a preset name or YAML file instead of `data`;
    # every batch is new, so an "epoch" is steps_per_epoch batches, validated on val_windows.
    generate: str | None = None
    steps_per_epoch: int = 500
    val_windows: int = 8192
    # With both `generate` and `data`: this share of the generated run's batches comes from the
    # file's training split instead (a target dataset mixed into the stream); validation on
    # the generated windows and as many of the file's validation split.
    file_share: float = 0.0

    def lengths(self) -> list:
        return list(self.length) if isinstance(self.length, (list, tuple)) else [self.length]

    def check(self):
        if self.model not in models.MODELS:
            raise ValueError(f"model {self.model!r} is not one of: {', '.join(models.MODELS)}")
        if not 0 <= self.file_share < 1:
            raise ValueError(f"file_share {self.file_share} must be in [0, 1)")
        if self.file_share and (self.data is None or self.generate is None):
            raise ValueError("file_share: mixes a file into a generated run: give both --data and --generate")
        if (self.data is None) == (self.generate is None) and not self.file_share:
            raise ValueError(
                "data/generate: give a dataset file (--data) or a generator preset (--generate), "
                "or both with a file_share (--file-share)"
            )
        if self.data is not None and not os.path.isfile(self.data):
            raise ValueError(f"data: {self.data} is not a file")
        if self.generate is not None:
            synthetic.preset(self.generate)  # refuses an unknown preset or a bad YAML, naming it
            if None in self.lengths():
                raise ValueError("length: give the window length(s) to generate (--length)")
            if self.snr_min is not None or self.snr_max is not None:
                raise ValueError("snr_min/snr_max select rows of a file; the preset sets the SNRs")
            if self.max_train and not self.file_share:
                raise ValueError("max_train caps the rows of a file; a generated run has no file")
        for name in ("epochs", "batch", "lr_patience", "stop_patience", "steps_per_epoch", "val_windows"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} {getattr(self, name)} must be >= 1")
        if not self.lr > 0:
            raise ValueError(f"lr {self.lr} must be > 0")
        if self.snr_min is not None and self.snr_max is not None and self.snr_min > self.snr_max:
            raise ValueError(f"snr_min {self.snr_min} is above snr_max {self.snr_max}")
        if self.init is not None and not any(
            os.path.isfile(os.path.join(self.init, f)) for f in (record.FILE, bundle.METADATA)
        ):
            raise ValueError(f"init: {self.init} is neither a finished run ({record.FILE}) nor a bundle")


def select_rows(parts: list[Data], cfg: TrainConfig) -> tuple[list[np.ndarray], np.ndarray]:
    """The training rows of every length and the validation rows (of the first length:
    Keras validates on one array): the papers' split, cut to the SNR range and max_train."""
    lo = -np.inf if cfg.snr_min is None else cfg.snr_min
    hi = np.inf if cfg.snr_max is None else cfg.snr_max
    train_sets, val_idx = [], None
    for d in parts:
        t_idx, v_idx, _ = split(d, cfg.seed)
        t_idx, v_idx = (i[(d.snr[i] >= lo) & (d.snr[i] <= hi)] for i in (t_idx, v_idx))
        if not len(t_idx) or not len(v_idx):
            raise ValueError(f"snr_min/snr_max: no vectors of length {d.length} between {lo} and {hi} dB")
        if cfg.max_train:
            t_idx = np.sort(np.random.default_rng(cfg.seed).permutation(t_idx)[: cfg.max_train // len(parts)])
            v_idx = np.sort(
                np.random.default_rng(cfg.seed + 1).permutation(v_idx)[: max(1, cfg.max_train // 3)]
            )
        train_sets.append(t_idx)
        val_idx = v_idx if val_idx is None else val_idx
    return train_sets, val_idx


def initial_model(cfg: TrainConfig, classes: list[str], window: int | None, soft_targets: bool = False):
    """The compiled model to train: fresh, or with the weights of cfg.init, a finished run or a
    bundle with its Keras model (fine-tuning a shipped model, curricula)."""
    keras.utils.set_random_seed(cfg.seed)
    model = models.build(cfg.model, len(classes), window)
    if cfg.init:
        if os.path.isfile(os.path.join(cfg.init, record.FILE)):
            start = TrainRecord.read(cfg.init)
            name, start_classes, weights = start.model, start.classes, os.path.join(cfg.init, "model.keras")
        else:
            b = bundle.load(cfg.init)
            if "keras" not in b.meta:
                raise ValueError(f"init: bundle {cfg.init} has no Keras model to start from")
            name, start_classes, weights = b.name, b.classes, os.path.join(b.path, b.meta["keras"]["file"])
        if name not in (cfg.model, models.GROWS_FROM.get(cfg.model)) or start_classes != classes:
            raise ValueError(f"init: {cfg.init} is a {name} model for classes {start_classes}, "
                             f"not {cfg.model} for {classes}")  # fmt: skip
        models.transfer_weights(keras.saving.load_model(weights, safe_mode=True), model)
    return models.compile_for_training(model, cfg.lr, soft_targets)


@dataclasses.dataclass
class Source:
    """Where a run's batches come from (a dataset file, or a generator preset), as train() needs it."""

    classes: list[str]
    lengths: list[int]
    val: tuple[np.ndarray, np.ndarray]
    batch: int
    steps: int  # per epoch
    batches: object  # (initial_epoch) -> endless iterator of (vectors, labels)
    about: str  # for the log
    record: dict  # TrainRecord's data, data_sha256, data_attrs
    soft_targets: bool = False  # labels are probability vectors (generated outliers)
    prior: np.ndarray | None = None  # class shares of the training batches, where not equal


def file_source(cfg: TrainConfig) -> Source:
    """The papers' protocol on a dataset file: its 6:2:2 split, batches of every length
    interleaved at random (each batch one length)."""
    entry = models.MODELS[cfg.model]
    parts = [open_data(cfg.data, n) for n in cfg.lengths()]  # one Data per vector length
    data = parts[0]
    train_sets, val_idx = select_rows(parts, cfg)
    val_x, _ = features.transform(data.windows(val_idx), entry.spec(data.length))
    batch = min([cfg.batch, *map(len, train_sets)])
    rng = np.random.default_rng(cfg.seed)

    def epochs_of_batches(initial_epoch: int):
        while True:
            gens = [batches(d, t, entry.spec(d.length), batch, rng, cfg.augment)
                    for d, t in zip(parts, train_sets, strict=True)]  # fmt: skip
            order = np.concatenate([np.full(len(t) // batch, k) for k, t in enumerate(train_sets)])
            for k in rng.permutation(order):
                yield next(gens[k])

    snr_lo = max(data.snr.min(), cfg.snr_min if cfg.snr_min is not None else -np.inf)
    snr_hi = min(data.snr.max(), cfg.snr_max if cfg.snr_max is not None else np.inf)
    kept = ("sps", "channel", "snr_definition", "generator")
    return Source(
        classes=list(data.classes),
        lengths=[d.length for d in parts],
        val=(val_x, data.y[val_idx]),
        batch=batch,
        steps=sum(len(t) // batch for t in train_sets),
        batches=epochs_of_batches,
        about=f"{sum(map(len, train_sets)):,} vectors of length {'/'.join(str(d.length) for d in parts)}",
        record={
            "data": os.path.abspath(cfg.data),
            "data_sha256": file_sha256(cfg.data),
            "data_attrs": {
                "snr_range": [int(snr_lo), int(snr_hi)],
                **{k: data.attrs[k] for k in kept if k in data.attrs},
            },
        },
    )


RANGES_FILE = "ranges.yaml"  # the generator ranges a generated run began with


def generated_source(cfg: TrainConfig) -> Source:
    """Windows generated on the fly (datasets.synthetic): batch k of epoch e is batch number
    e * steps + k of the stream seeded cfg.seed, so that a resumed run draws new batches. The
    ranges are the preset's when the run begins, kept in the run directory (RANGES_FILE): a
    resumed run goes on with them even if the preset has changed since."""
    kept = os.path.join(cfg.out, RANGES_FILE)
    if os.path.isfile(kept):
        ranges = synthetic.Ranges.from_yaml(kept)
    else:
        ranges = synthetic.preset(cfg.generate)
    attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(ranges).items()}
    if not os.path.isfile(kept):
        os.makedirs(cfg.out, exist_ok=True)
        write_text(kept, yaml.safe_dump(attrs, sort_keys=False))
    entry = models.MODELS[cfg.model]
    spec = entry.spec(cfg.lengths()[0])
    val = synthetic_data(ranges, cfg.val_windows, spec.window, cfg.seed + VALIDATION_SEED)
    val_x, _ = features.transform(val.windows(np.arange(len(val))), spec)
    soft = ranges.outliers > 0  # validation on the classes alone, as one-hot targets
    val_y = soft_labels(val.y, len(ranges.classes)) if soft else val.y
    name = os.path.basename(cfg.generate)[: -len(".yaml")] if cfg.generate.endswith(".yaml") else cfg.generate
    return Source(
        classes=list(ranges.classes),
        lengths=cfg.lengths(),
        val=(val_x, val_y),
        batch=cfg.batch,
        steps=cfg.steps_per_epoch,
        batches=lambda initial_epoch: generated_batches(
            ranges,
            [entry.spec(n) for n in cfg.lengths()],
            cfg.batch,
            cfg.seed,
            initial_epoch * cfg.steps_per_epoch,
        ),  # fmt: skip
        about=f"windows of {'/'.join(map(str, cfg.lengths()))} generated on the fly "
        f"({name}: a new batch every step)",
        record={
            "data": GENERATED + name,
            "data_sha256": hashlib.sha256(json.dumps(attrs, sort_keys=True).encode()).hexdigest(),
            "data_attrs": {
                "snr_range": [int(ranges.snr_db[0]), int(ranges.snr_db[1])],
                "sps": list(ranges.sps),
                "generator": "gr-amc synthetic",
                "ranges": attrs,
            },  # fmt: skip
        },
        soft_targets=soft,
        prior=ranges.class_shares() if ranges.class_weights else None,
    )


def mixed_source(cfg: TrainConfig) -> Source:
    """A generated run with a share (cfg.file_share) of its batches from a file's training
    split (the papers' split with the run's seed, of the lengths the file has): the stream
    teaches what transmitters and channels vary, the file a target set's own channel.
    Steps stay the generated run's; which batch comes from where is drawn from [seed, epoch]."""
    gen = generated_source(dataclasses.replace(cfg, data=None, file_share=0.0))
    lengths = [n for n in cfg.lengths() if n in file_lengths(cfg.data)]
    if not lengths:
        raise ValueError(f"data: {cfg.data} holds none of the lengths {cfg.lengths()}")
    fil = file_source(dataclasses.replace(cfg, generate=None, length=lengths, batch=gen.batch))
    if fil.classes != gen.classes:
        raise ValueError(f"data: {cfg.data} has classes {fil.classes}, the preset {gen.classes}")
    if fil.batch != gen.batch:
        raise ValueError(f"batch: {cfg.data}'s training split is smaller than one batch of {gen.batch}")
    n = len(gen.classes)

    def targets(y):
        return soft_labels(y, n) if gen.soft_targets and y.ndim == 1 else y

    pick = np.random.default_rng(cfg.seed + 1).permutation(len(fil.val[1]))[: len(gen.val[1])]
    val = (
        np.concatenate([gen.val[0], fil.val[0][pick]]),
        np.concatenate([gen.val[1], targets(fil.val[1][pick])]),
    )
    if (
        gen.val[0].shape[1:] != fil.val[0].shape[1:]
    ):  # several lengths: validate on the generated first length
        val = gen.val

    def epochs_of_batches(initial_epoch: int):
        stream, rows = gen.batches(initial_epoch), fil.batches(initial_epoch)
        epoch = initial_epoch
        while True:
            for from_file in (
                np.random.default_rng([cfg.seed, epoch]).uniform(size=gen.steps) < cfg.file_share
            ):
                x, y = next(rows) if from_file else next(stream)
                yield x, targets(y)
            epoch += 1

    return dataclasses.replace(
        gen,
        val=val,
        batches=epochs_of_batches,
        about=f"{gen.about}, {100 * cfg.file_share:.0f} % of the batches from {fil.about} of {cfg.data}",
        record={**gen.record, "data_attrs": {**gen.record["data_attrs"], "mixed_with": {
            "data": fil.record["data"], "data_sha256": fil.record["data_sha256"],
            "share": cfg.file_share, "lengths": lengths}}},
    )  # fmt: skip


def batch_stream(source: Source, spec: features.VectorSpec, initial_epoch: int):
    """The source's batches as a tf.data stream: tf.data runs the generator (reading or
    generating, augmenting, transforming) in its own thread while the model trains on the
    previous batches."""
    shape = (source.batch, *spec.shape) if len(source.lengths) == 1 else (source.batch, None, spec.shape[-1])
    labels = (
        tf.TensorSpec((source.batch, len(source.classes)), tf.float32)
        if source.soft_targets
        else tf.TensorSpec((source.batch,), tf.int64)
    )
    return tf.data.Dataset.from_generator(
        lambda: source.batches(initial_epoch), output_signature=(tf.TensorSpec(shape, tf.float32), labels)
    ).prefetch(4)


def train(cfg: TrainConfig, resume: bool = False, command: str = "", log=print) -> TrainRecord:
    """Train one zoo model; writes model.keras, train.json and curves.png into cfg.out."""
    cfg.check()
    entry = models.MODELS[cfg.model]
    if len(cfg.lengths()) > 1 and not entry.variable_length:
        raise ValueError(f"length: model {cfg.model} takes one length, not {cfg.lengths()}")
    backup = os.path.join(cfg.out, "backup")
    if not resume and os.path.isdir(backup):
        raise ValueError(f"out: {cfg.out} holds an unfinished run; pass --resume to continue it")
    if not resume and os.path.isfile(os.path.join(cfg.out, RANGES_FILE)):
        os.remove(os.path.join(cfg.out, RANGES_FILE))  # a new run takes the preset as it is now
    source = (
        mixed_source(cfg) if cfg.file_share else generated_source(cfg) if cfg.generate else file_source(cfg)
    )
    spec = entry.spec(source.lengths[0])
    os.makedirs(cfg.out, exist_ok=True)
    model = initial_model(
        cfg, source.classes, None if entry.variable_length else spec.window, source.soft_targets
    )

    run_files = run_files_callback(cfg.out, resume)
    initial_epoch = restore_backup(model, backup) if resume else 0
    run_files.forget_from(
        initial_epoch,
        best_loss=lambda: keras.saving.load_model(run_files.best_path, safe_mode=True).evaluate(
            *source.val, batch_size=source.batch, verbose=0, return_dict=True
        )["loss"],
    )
    callbacks = [
        keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=cfg.lr_patience),
        keras.callbacks.EarlyStopping("val_loss", patience=cfg.stop_patience),
        run_files,
    ]
    log(f"training {cfg.model} ({model.count_params():,} parameters) on {source.about}, "
        f"validating on {len(source.val[1]):,}; {source.steps} steps/epoch")  # fmt: skip
    model.fit(
        batch_stream(source, spec, initial_epoch),
        steps_per_epoch=source.steps,
        epochs=cfg.epochs,
        initial_epoch=initial_epoch,
        validation_data=source.val,
        validation_batch_size=source.batch,
        callbacks=callbacks,
        shuffle=False,  # the source shuffles
        verbose=2,
    )
    model = keras.saving.load_model(os.path.join(cfg.out, "best.keras"), safe_mode=True)
    if source.prior is not None:
        correct_prior(model, source.prior)
    model.save(os.path.join(cfg.out, "model.keras"))
    shutil.rmtree(backup, ignore_errors=True)
    record = run_record(cfg, model, source, [run_files.epochs[k] for k in sorted(run_files.epochs)], command)
    record.write(cfg.out)
    plot_history(record.history, os.path.join(cfg.out, "curves.png"), cfg.model)
    return record


def correct_prior(model, prior: np.ndarray) -> None:
    """Make a model trained on classes in the shares `prior` answer as if they were equal: a
    softmax output is proportional to p(x | c) prior[c], so subtracting log(prior[c] * n) from
    the output layer's bias divides the prior out (logit adjustment), leaving the ranking of
    p(x | c) and the calibration on equal classes."""
    layer = model.get_layer("probabilities")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias - np.log(np.asarray(prior) * len(prior)).astype(bias.dtype)])


def run_record(cfg: TrainConfig, model, source: Source, epochs: list[dict], command: str) -> TrainRecord:
    """train.json of a finished run: what was trained on what, how, and its history."""
    entry = models.MODELS[cfg.model]
    seconds = [e["seconds"] for e in epochs]
    return TrainRecord(
        model=cfg.model,
        params=int(model.count_params()),
        classes=list(source.classes),
        spec=dataclasses.asdict(entry.spec(source.lengths[0])),
        variable_length=entry.variable_length,
        lengths=list(source.lengths),
        **source.record,
        seed=cfg.seed,
        config={k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("model", "data", "out")},
        command=command,
        epochs_run=len(epochs),
        seconds_per_epoch=float(np.median(seconds)) if seconds else None,
        history={
            k: [e.get(k) for e in epochs]
            for k in sorted({k for e in epochs for k in e} - {"epoch", "seconds"})
        },
    )


def run_files_callback(out: str, resume: bool):
    """The Keras callback that keeps a run's files at the end of every epoch, in an order that
    leaves them usable wherever the run is killed (an epoch killed before its backup is run
    again and its files rewritten):
    - best.keras, the model of the lowest validation loss so far (replaced whole, never written
      in place; after a resume only a loss below the best before it replaces it);
    - epochs.json, each epoch's metrics and wall time (the s/epoch column of the tables) by
      epoch number, so that a resumed run's history holds the epochs before the resume too;
    - backup/, the weights and optimizer state for `--resume` (save_backup)."""

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
