# SPDX-License-Identifier: GPL-3.0-or-later
"""amc evaluate: trained runs on their test split (or another file), as tables and plots.

Bundles (a shipped name or a bundle directory) are evaluated too, on a file (`data`): a model
trained on the generated stream can then be scored on a dataset's test split beside the runs
trained on that dataset (the papers' protocol).

Zhang et al. 2021's Table I (parameters, s/epoch, ms/sample, highest and average accuracy over SNR),
accuracy-against-SNR curves and confusion matrices.
"""

from __future__ import annotations

import os

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after the backend is chosen)
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..runtime import bundle  # noqa: E402
from ..runtime.atomic import AtomicFile, write_json, write_text  # noqa: E402
from . import models  # noqa: E402, F401 (registers the zoo's custom layers for loading)
from .data import Data, open_data, predict, run_test_data, split  # noqa: E402
from .record import TrainRecord  # noqa: E402


def _save_png(fig, path: str) -> None:
    fig.tight_layout()
    with AtomicFile(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def is_bundle(target: str) -> bool:
    """Whether `target` names a bundle (a shipped name or a directory with bundle.yaml)
    rather than a run directory of amc train."""
    if os.path.isfile(os.path.join(target, "train.json")):
        return False
    return target in ("default", *bundle.shipped()) or os.path.isfile(os.path.join(target, bundle.METADATA))


def _opened(target: str, length: int):
    """(architecture, Keras model, VectorSpec at `length`, training s/epoch or None) of a run
    or of a bundle (its float Keras model, from which its LiteRT files were converted)."""
    if is_bundle(target):
        b = bundle.load(bundle.resolve(target))
        if "keras" not in b.meta:
            raise bundle.BundleError(f"bundle {b.path}: has no Keras model to evaluate")
        model = keras.saving.load_model(os.path.join(b.path, b.meta["keras"]["file"]), safe_mode=True)
        return b.name, model, b.spec(length), None
    info = TrainRecord.read(target)
    model = keras.saving.load_model(os.path.join(target, "model.keras"), safe_mode=True)
    return info.model, model, info.vector_spec(length), info.seconds_per_epoch


def evaluate_run(run_dir: str, data: Data | None = None, test_idx=None) -> dict:
    """Accuracy of a trained run on its test split (or of a run or bundle on `data`, all of it
    or its rows `test_idx`), per SNR and per class."""
    if data is None:
        if is_bundle(run_dir):
            raise ValueError(f"runs: {run_dir} is a bundle, which has no test split of its own: give data")
        info = TrainRecord.read(run_dir)
        data, test_idx = run_test_data(info.data, info.seed, info.spec["window"])
    elif test_idx is None:
        test_idx = np.arange(len(data))
    name, model, spec, seconds_per_epoch = _opened(run_dir, data.length)
    probs, seconds = predict(model, data, test_idx, spec)
    pred = probs.argmax(axis=1)
    truth, snr = data.y[test_idx], data.snr[test_idx]
    snrs = sorted(set(snr.tolist()))
    per_snr = accuracy_per_snr(pred == truth, snr)
    n = len(data.classes)
    confusion = {s: np.zeros((n, n), np.int64) for s in snrs}
    for s, t, p in zip(snr, truth, pred, strict=True):
        confusion[s][t, p] += 1
    return {
        "name": name,
        "run": run_dir,
        "params": model.count_params(),
        "seconds_per_epoch": seconds_per_epoch,
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
            int(k): accuracy_per_snr((pred == truth)[data.sps[test_idx] == k], snr[data.sps[test_idx] == k])
            for k in np.unique(data.sps[test_idx])
        },  # fmt: skip
    }


def accuracy_per_snr(right: np.ndarray, snr: np.ndarray) -> dict:
    return {int(s): float(np.mean(right[snr == s])) for s in sorted(set(snr.tolist()))}


def bundle_evaluation(run_dir: str, unseen: list[str] = (), log=print) -> dict:
    """What a bundle records of its model: the test split at every trained length (the
    first is the headline) and, for variable-length models, all of files of lengths it
    never saw (Rajendran et al. 2018's length-64 experiment)."""
    info = TrainRecord.read(run_dir)

    def brief(r):
        out = {"overall": r["overall"], "highest": r["highest"], "average": r["average"],
               "per_snr": r["per_snr"], "per_class": r["per_class"]}  # fmt: skip
        out.update({f"per_snr_{k}sps": v for k, v in r["per_sps"].items()} if len(r["per_sps"]) > 1 else {})
        return out

    per_length = {}
    for n in info.trained_lengths:
        data, test_idx = run_test_data(info.data, info.seed, n)
        r = evaluate_run(run_dir, data, test_idx)
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
    """Zhang et al. 2021's Table I for the evaluated runs."""
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
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, keys in ((a, ("loss", "val_loss")), (b, ("accuracy", "val_accuracy"))):
        for key in keys:
            values = history.get(key, [])
            ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=key)
    a.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss")
    b.set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy")
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs 1, 2, ..., not 0.0 .. 1.0
        ax.grid(True)
        ax.legend()
    _save_png(fig, path)


def plot_accuracy(results: list[dict], path: str) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in results:
        snrs = sorted(r["per_snr"])
        ax.plot(snrs, [100 * r["per_snr"][s] for s in snrs], marker="o", label=r["name"])
    ax.set(xlabel="SNR label (dB)", ylabel="accuracy (%)", title="Accuracy against SNR", ylim=(0, 100))
    ax.grid(True)
    ax.legend()
    _save_png(fig, path)


def plot_confusion(result: dict, snr: int, path: str) -> None:
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
        model[run] = bundle.load(bundle.resolve(run)).id if is_bundle(run) else TrainRecord.read(run).model
    dirs = {run: os.path.basename(os.path.normpath(run)) for run in run_dirs}
    unique = len(set(dirs.values())) == len(run_dirs)
    return {
        run: model[run] if list(model.values()).count(model[run]) == 1
        else dirs[run] if unique else os.path.normpath(run).replace(os.sep, "_")
        for run in run_dirs
    }  # fmt: skip


def evaluate(
    run_dirs: list[str], out: str, confusion_snrs=(), log=print, data: str | None = None, length=None,
    test_split: int | None = None,
) -> list[dict]:  # fmt: skip
    """Evaluate several runs (and bundles, with `data`) on the same test split, or on all of
    `data`, or with `test_split` on the test split of `data` that a run trained on it with
    seed `test_split` held out; writes the table (Markdown, CSV), accuracy.png and confusion
    PNGs into `out`. A run trained on several lengths is tested at each (one row and curve per
    length, named "model (N)"); where the data hold several sps, accuracy_per_sps.png has a
    curve per sps too."""
    if test_split is not None and not data:
        raise ValueError("test_split: needs data (the file whose test split to use)")
    if not data and any(is_bundle(r) for r in run_dirs):
        raise ValueError("data: bundles have no test split of their own: give a file to test them on")
    os.makedirs(out, exist_ok=True)
    results = []
    other = open_data(data, length) if data else None
    rows = (
        None
        if other is None
        else np.arange(len(other))
        if test_split is None
        else split(other, test_split)[2]
    )
    labels = run_labels(run_dirs)
    for run in run_dirs:
        if other is not None:
            found = [{**evaluate_run(run, other, rows), "name": labels[run]}]
        else:
            info = TrainRecord.read(run)
            lengths = info.trained_lengths
            found = []
            for n in lengths:
                d, test_idx = run_test_data(info.data, info.seed, n)
                name = labels[run] if len(lengths) == 1 else f"{labels[run]} ({n})"
                found.append({**evaluate_run(run, d, test_idx), "name": name})
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
