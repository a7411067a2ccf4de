# SPDX-License-Identifier: GPL-3.0-or-later
"""amc train / evaluate / export / quantize / prune: the model zoo, from dataset to bundle."""

from __future__ import annotations

import os
import sys

from ..datasets import synthetic
from ..ml import names
from .common import rounded


def cmd_train(args) -> int:
    from ..ml import training

    cfg = training.TrainConfig(
        model=args.model,
        data=args.data,
        out=args.out,
        length=args.length,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        lr_patience=args.lr_patience,
        stop_patience=args.stop_patience,
        seed=args.seed,
        augment=training.Augment(args.augment_phase, args.augment_freq, args.augment_shift),
        max_train=args.max_train,
        snr_min=args.snr_min,
        snr_max=args.snr_max,
        init=args.init,
        generate=args.generate,
        steps_per_epoch=args.steps_per_epoch,
        val_windows=args.val_windows,
        file_share=args.file_share,
    )
    record = training.train(cfg, resume=args.resume, command=" ".join(["amc", *sys.argv[1:]]))
    print(
        f"{record.model}: {record.epochs_run} epochs, {record.seconds_per_epoch:.1f} s/epoch, "
        f"best model in {os.path.join(args.out, 'model.keras')}"
    )
    return 0


def cmd_evaluate(args) -> int:
    from ..ml import evaluation

    evaluation.evaluate(
        args.runs,
        args.out,
        args.confusion_snr,
        data=args.data,
        length=args.length,
        test_split=args.test_split,
    )
    print(open(os.path.join(args.out, "table.md")).read(), end="")
    print(f"plots and tables in {args.out}")
    return 0


def cmd_export(args) -> int:
    from ..ml import evaluation, export
    from ..runtime import bundle

    result = None
    if not args.no_evaluate:
        result = rounded(evaluation.bundle_evaluation(args.run, args.unseen or ()))
    if result is not None and args.quantization != "none":
        result["model"] = "the float Keras model (amc quantize tests the quantised LiteRT files)"
    meta = export.export(
        args.run, args.out, args.batch, args.lengths, result, force=args.force, quantization=args.quantization
    )
    files = ", ".join(v["file"] for v in meta["input"]["files"].values())
    print(f"wrote bundle {args.out}: {meta['name']}, {len(meta['classes'])} classes, {files}")
    bundle.load(args.out)  # proves it loads
    chance = 1 / len(meta["classes"])
    if result is None:
        print("test accuracy: not measured (--no-evaluate)")
    else:
        print(f"test accuracy (test split, in bundle.yaml): overall {100 * result['overall']:.2f} %, "
              f"highest {100 * result['highest']:.2f} %, average {100 * result['average']:.2f} % "
              f"(chance {100 * chance:.1f} %)")  # fmt: skip
        if result["overall"] < chance + 0.15 * (1 - chance):  # within 15 % of the way from chance
            print(f"amc: warning: {args.out} is barely above chance: train longer before shipping it",
                  file=sys.stderr)  # fmt: skip
    return 0


def cmd_quantize(args) -> int:
    from ..ml import quantize

    quantize.quantize(args.run, args.out, args.calibration)
    print(open(os.path.join(args.out, "table.md")).read(), end="")
    return 0


def cmd_prune(args) -> int:
    from ..ml import pruning

    pruning.prune(args.run, args.out, args.sparsity, args.epochs, args.batch, args.lr, args.frequency,
                  args.scope, args.keep)  # fmt: skip
    print(open(os.path.join(args.out, "table.md")).read(), end="")
    print(f"pruned runs, plot and tables in {args.out}")
    return 0


def add_commands(sub) -> None:
    t = sub.add_parser("train", help="train a zoo model (the papers' protocol by default)")
    t.add_argument("--model", required=True, choices=names.ZOO, metavar="MODEL",
                   help=f"zoo model: {', '.join(names.ZOO)} (docs/zoo.md)")  # fmt: skip
    t.add_argument("--data", help="dataset file (HDF5 or RML2016 pickle)")
    t.add_argument("--generate", metavar="PRESET",
                   help="train on windows generated on the fly: a preset "
                        f"({', '.join(synthetic.presets())}) or a YAML file of ranges")  # fmt: skip
    t.add_argument("--file-share", type=float, default=0.0,
                   help="with --generate and --data: the share of batches "
                        "from the file's training split")  # fmt: skip
    t.add_argument("--out", required=True, help="run directory")
    t.add_argument("--length", type=int, nargs="+",
                   help="vector length(s) in the file; variable-length models take several")  # fmt: skip
    t.add_argument("--epochs", type=int, default=200, help="most epochs")
    t.add_argument("--batch", type=int, default=400, help="vectors per step")
    t.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    t.add_argument("--lr-patience", type=int, default=5, help="epochs without improvement before halving lr")
    t.add_argument("--stop-patience", type=int, default=50, help="epochs without improvement before stopping")
    t.add_argument("--seed", type=int, default=0, help="split, shuffle and weights seed")
    t.add_argument("--augment-phase", action="store_true", help="random carrier phase per vector")
    t.add_argument("--augment-freq", type=float, default=0.0, help="random frequency offset (cycles/sample)")
    t.add_argument("--augment-shift", type=int, default=0, help="random circular time shift (samples)")
    t.add_argument("--max-train", type=int, help="use at most this many training vectors")
    t.add_argument("--snr-min", type=float, help="train and validate only on SNRs >= this (dB)")
    t.add_argument("--snr-max", type=float, help="train and validate only on SNRs <= this (dB)")
    t.add_argument("--init", help="start from the weights of this finished run (same model and classes)")
    t.add_argument("--resume", action="store_true", help="continue an interrupted run")
    t.add_argument("--steps-per-epoch", type=int, default=500, help="--generate: batches per epoch")
    t.add_argument("--val-windows", type=int, default=8192,
                   help="--generate: generated validation windows")  # fmt: skip
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate runs on their common test split")
    e.add_argument("runs", nargs="+", help="run directories of amc train (and, with --data, bundles)")
    e.add_argument("--out", required=True, help="directory for the tables and plots")
    e.add_argument("--confusion-snr", type=int, nargs="*", default=[0, 10], help="SNRs of confusion matrices")
    e.add_argument("--data", help="test on all of this file instead (e.g. a length never trained on)")
    e.add_argument("--length", type=int, help="vector length in --data (files holding several)")
    e.add_argument("--test-split", type=int, metavar="SEED",
                   help="with --data: its test split only (held out by runs of --seed SEED)")  # fmt: skip
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", help="export a trained run as a frozen LiteRT bundle")
    x.add_argument("run", help="run directory of amc train")
    x.add_argument("--out", required=True, help="bundle directory to write")
    x.add_argument("--batch", type=int, default=256, help="most vectors per model call")
    x.add_argument("--lengths", type=int, nargs="+", help="input lengths (variable-length models)")
    x.add_argument("--force", action="store_true", help="replace an existing bundle")
    x.add_argument("--no-evaluate", action="store_true", help="skip the test-split evaluation")
    x.add_argument("--quantization", choices=("none", "int8-weights"), default="none",
                   help="LiteRT weights: float32, or int8 beside float activations")  # fmt: skip
    x.add_argument("--unseen", nargs="+", help="also test on all of these files (lengths not trained on)")
    x.set_defaults(func=cmd_export)

    q = sub.add_parser("quantize", help="int8 post-training quantisation of a run, against its float model")
    q.add_argument("run", help="run directory of amc train")
    q.add_argument("--out", required=True, help="directory for the float and int8 bundles and the table")
    q.add_argument("--calibration", type=int, default=512, help="training vectors that calibrate the ranges")
    q.set_defaults(func=cmd_quantize)

    r = sub.add_parser(
        "prune", help="magnitude pruning with Zhang et al. 2021's cubic schedule: its Table II for a run"
    )
    r.add_argument("run", help="run directory of amc train")
    r.add_argument("--out", required=True, help="directory for the pruned runs, table and plot")
    r.add_argument(
        "--sparsity", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95], help="final sparsities"
    )
    r.add_argument(
        "--epochs", type=int, default=5, help="fine-tuning epochs per sparsity (Zhang et al. 2021: 5)"
    )
    r.add_argument("--batch", type=int, default=128, help="fine-tuning batch (Zhang et al. 2021: 128)")
    r.add_argument("--lr", type=float, default=1e-3, help="fine-tuning learning rate (Adam)")
    r.add_argument("--frequency", type=int, default=100, help="steps between mask updates (dt of eq. 3)")
    r.add_argument("--scope", default="layer",
                   help="layer: every kernel cut to the sparsity; global: all kernels together")  # fmt: skip
    r.add_argument(
        "--keep", nargs="+", default=[], metavar="LAYER", help="layers left dense (e.g. phase_estimator)"
    )
    r.set_defaults(func=cmd_prune)
