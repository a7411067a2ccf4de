# SPDX-License-Identifier: GPL-3.0-or-later
"""`amc`: the gr-amc command line.

amc demo                 the main job on its built-in default signal
amc classify REC         classify a recording with a model bundle
amc models               the shipped model bundles
amc dataset ...          RadioML-style datasets (generate, info)
amc train / evaluate / export / quantize / prune   the model zoo
amc bench ...            benchmarks
amc version
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys

# TensorFlow's C++ start-up chatter is not for the command line's users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from . import features
from ._version import __version__


def _add_spec_args(p: argparse.ArgumentParser, window: int = 128) -> None:
    p.add_argument("--window", type=int, default=window, help="window length N (>= 16)")
    p.add_argument("--hop", type=int, default=None, help="samples between window starts (default N)")
    p.add_argument("--representation", choices=features.REPRESENTATIONS, default="iq")
    p.add_argument("--layout", choices=features.LAYOUTS, default="channels_last")
    p.add_argument("--normalization", choices=features.NORMALIZATIONS, default="l2")
    p.add_argument("--fft-size", type=int, default=0, help="mag_fft FFT size (0: window / fft-avg)")
    p.add_argument("--fft-avg", type=int, default=1, help="mag_fft: FFTs averaged per window")


def _spec(args) -> features.VectorSpec:
    return features.VectorSpec(
        args.window, args.representation, args.layout, args.normalization, args.fft_size, args.fft_avg
    )


def cmd_demo(args) -> int:
    from . import demo

    if not args.vectors:
        tb = demo.sensor_demo(args.model, segment=args.segment, esn0_db=args.esn0, json_path=args.json)
        tb.run()
        print(demo.sensor_report(tb))
        return 0
    spec = _spec(args)
    hop = spec.window if args.hop is None else args.hop
    result = demo.run(spec, hop, args.samples, args.sps, args.esn0)
    print(demo.report(spec, hop, args.samples, result, args.show))
    return 0


def cmd_bench_classifier(args) -> int:
    from . import bench_classifier as bc
    from . import bundle

    b = bundle.load(args.model)
    n = b.lengths[0]
    sps = b.sps
    data = bc.test_signal(1 << 18, sps)
    out = {"model": b.name, "path": b.path, "window": n}
    print(f"model {b.name} ({b.path}), window {n}", flush=True)
    for threads in args.threads:
        rate = max(bc.throughput(b, data, args.windows, threads) for _ in range(args.rounds))
        out[f"block_threads{threads}"] = rate
        print(
            f"  flowgraph source -> vectorizer -> classifier ({threads} thread(s)): {rate:,.0f} windows/s",
            flush=True,
        )
    for batch in (None, b.meta["batch"]):
        rate = bc.keras_rate(b, data, args.windows, batch)
        out[f"keras_batch{batch or 32}"] = rate
        what = f"batch {batch}" if batch else "default batch 32"
        print(f"  Keras model.predict, {what}: {rate:,.0f} windows/s")
    best = max(v for k, v in out.items() if k.startswith("block_"))
    out["ratio_vs_keras_default"] = best / out["keras_batch32"]
    out["ratio_vs_keras_same_batch"] = best / out[f"keras_batch{b.meta['batch']}"]
    print(f"  block / Keras predict: {out['ratio_vs_keras_default']:.1f}x (default batch), "
          f"{out['ratio_vs_keras_same_batch']:.1f}x (batch {b.meta['batch']})")  # fmt: skip
    if args.realtime > 0:
        rt = bc.real_time(b, data, args.rate, args.realtime, args.realtime_threads, args.warmup)
        out["realtime"] = dict(rt.__dict__, rss_growth=rt.rss_growth, needed_windows_per_s=args.rate / n)
        print(f"  real time at {args.rate / 1e6:g} MS/s for {rt.seconds:.0f} s after {args.warmup:g} s: "
              f"{rt.windows_per_s:,.0f} windows/s "
              f"(needed {args.rate / n:,.0f}), dropped {rt.dropped}, latency p50 {rt.latency_p50_ms:.1f} ms "
              f"p99 {rt.latency_p99_ms:.1f} ms, RSS {rt.rss_start_mb:.0f} -> {rt.rss_end_mb:.0f} MB "
              f"({100 * rt.rss_growth:+.1f} %)")  # fmt: skip
    if args.json:
        from .training import write_json

        write_json(args.json, out)
    return 0


def cmd_bench(args) -> int:
    from . import bench

    cores = None if args.cores == 0 else args.cores

    def progress(r):
        print(
            f"  {r.name:<36} N={r.window:<5} {r.msps:8.1f} MS/s  (baseline {r.baseline_msps:.1f})",
            file=sys.stderr,
            flush=True,
        )

    results = bench.run(tuple(args.windows), args.samples, args.rounds, cores, progress=progress)
    print(bench.table(results, cores))
    if args.json:
        rows = [dict(r.__dict__, ratio=r.ratio) for r in results]
        with open(args.json, "w") as f:
            json.dump({"cores": cores, "samples": args.samples, "results": rows}, f, indent=1)
    return 0


def cmd_bench_training(args) -> int:
    from . import bench_training, models

    names = args.models or list(models.MODELS)
    unknown = [n for n in names if n not in models.MODELS]
    if unknown:
        raise ValueError(f"--models: {', '.join(unknown)} not in the zoo ({', '.join(models.MODELS)})")
    rows = []
    for name in names:
        rows.append(bench_training.seconds_per_epoch(name, steps=args.steps, warmup=args.warmup))
        r = rows[-1]
        print(f"  {name:<10} {r['ms_per_step']:7.0f} ms/step {r['seconds_per_epoch']:7.0f} s/epoch",
              file=sys.stderr, flush=True)  # fmt: skip
    print(bench_training.table(rows))
    if args.json:
        from .training import write_json

        write_json(args.json, {"cores": os.cpu_count(), "results": rows})
    return 0


def cmd_dataset_generate(args) -> int:
    from . import dataset

    preset = dataset.PRESETS[args.preset]
    if args.snr is not None and len(args.snr) not in (2, 3):
        raise ValueError("snr: give START STOP [STEP] in dB")
    snrs = preset.snrs if args.snr is None else dataset.snr_range(*args.snr)
    cfg = dataset.Config(
        classes=tuple(args.classes or preset.classes),
        sps=tuple(args.sps or preset.sps),
        lengths=tuple(args.length or preset.lengths),
        snrs=snrs,
        per=args.per or preset.per,
        channel=args.channel,
        compat=args.compat,
        normalization=args.normalization or ("l1" if args.compat else "none"),
        rolloff=args.rolloff,
        seed=args.seed,
    )
    summary = dataset.generate(
        cfg, args.out, args.format or preset.format, args.jobs, args.force, args.preset, quiet=args.quiet
    )
    print(
        f"wrote {summary['path']} ({summary['format']}): {summary['vectors']} vectors, "
        f"{len(cfg.classes)} classes x {len(cfg.label_snrs)} SNRs x {len(cfg.sps)} sps x "
        f"{len(cfg.lengths)} lengths x {cfg.per}, channel {cfg.channel}"
        f"{' (compat)' if cfg.compat else ''}, in {summary['seconds']:.1f} s "
        f"({summary['vectors_per_second']:.0f} vectors/s)\nsha256 {summary['sha256']}"
    )
    return 0


def cmd_dataset_info(args) -> int:
    from . import dataset

    print(dataset.info(args.file))
    return 0


def cmd_train(args) -> int:
    from . import training

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
    )
    summary = training.train(cfg, resume=args.resume, command=" ".join(["amc", *sys.argv[1:]]))
    print(
        f"{summary['model']}: {summary['epochs_run']} epochs, {summary['seconds_per_epoch']:.1f} s/epoch, "
        f"best model in {os.path.join(args.out, 'model.keras')}"
    )
    return 0


def cmd_evaluate(args) -> int:
    from . import training

    training.evaluate(args.runs, args.out, args.confusion_snr, data=args.data, length=args.length)
    print(open(os.path.join(args.out, "table.md")).read(), end="")
    print(f"plots and tables in {args.out}")
    return 0


def _rounded(tree):
    """Accuracies to 4 decimals for bundle.yaml."""
    if isinstance(tree, dict):
        return {k: _rounded(v) for k, v in tree.items()}
    return round(tree, 4) if isinstance(tree, float) else tree


def cmd_export(args) -> int:
    from . import bundle

    evaluation = None
    if not args.no_evaluate:
        from . import training

        evaluation = _rounded(training.bundle_evaluation(args.run, args.unseen or ()))
    meta = bundle.export(args.run, args.out, args.batch, args.lengths, evaluation, force=args.force)
    files = ", ".join(v["file"] for v in meta["input"]["files"].values())
    print(f"wrote bundle {args.out}: {meta['name']}, {len(meta['classes'])} classes, {files}")
    bundle.load(args.out)  # proves it loads
    return 0


def cmd_classify(args) -> int:
    from . import bundle, recordings
    from .classifier import classify_windows

    for name in ("threads", "hop", "rate", "symbol_rate"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} {value} must be > 0")
    b = bundle.load(args.model)
    rec = recordings.read(args.recording)
    rate = args.rate or rec.samp_rate
    samples = rec.samples
    if args.symbol_rate:
        if rec.windows or not rate:
            raise ValueError(
                "--symbol-rate needs a stream and its sample rate (--rate, or SigMF/WAV metadata)"
            )
        samples = resample(samples, b.sps * args.symbol_rate / rate)
        rate = b.sps * args.symbol_rate
    length = args.length or b.lengths[0]
    if rec.windows:
        length = samples.shape[1]
    runner = b.runner(length, args.threads)
    starts, labels, conf, _ = classify_windows(runner, b.classes, b.spec(length), samples, args.hop)
    for i, (start, label, c) in enumerate(zip(starts, labels, conf, strict=True)):
        if args.json:
            row = {"window": i, "offset": int(start), "label": label, "confidence": round(float(c), 4)}
            if rate and not rec.windows:
                row["time"] = round(start / rate, 6)
            print(json.dumps(row))
        else:
            if i == 0:
                print(f"{'window':>7} {'offset':>10} {'time (s)':>10}  {'label':<10} confidence")
            t = f"{start / rate:10.4f}" if rate and not rec.windows else f"{'-':>10}"
            print(f"{i:7d} {int(start):10d} {t}  {label:<10} {c:.3f}")
    if rec.meta_path and not args.no_annotate and not args.symbol_rate:
        segs = recordings.segments(labels, starts, length, conf)
        n = recordings.annotate_sigmf(rec.meta_path, segs, b.name, f"gr-amc {__version__}")
        print(f"wrote {n} annotations to {rec.meta_path}", file=sys.stderr)
    return 0


def resample(samples, ratio: float):
    """The stream at `ratio` times its rate, by GNU Radio's polyphase arbitrary resampler
    (the live flowgraphs' resampler)."""
    import numpy as np
    from gnuradio import blocks, filter, gr

    tb = gr.top_block()
    src = blocks.vector_source_c(samples.tolist())
    rs = filter.pfb.arb_resampler_ccf(ratio, [], 32, 100)
    sink = blocks.vector_sink_c()
    tb.connect(src, rs, sink)
    tb.run()
    return np.array(sink.data(), np.complex64)


def cmd_models(args) -> int:
    from . import bundle

    names = bundle.shipped()
    if not names:
        print("no shipped models installed")
        return 1
    for name in names:
        b = bundle.load(name)
        t, ev = b.meta.get("trained_on", {}), b.meta.get("evaluation", {})
        sps = t["sps"] if isinstance(t.get("sps"), list) else [b.sps]
        acc = (
            f"highest {100 * ev['highest']:.1f} %, average {100 * ev['average']:.1f} %"
            if "highest" in ev
            else ""
        )
        default = " (default)" if name == bundle.DEFAULT else ""
        i = b.meta["input"]
        print(f"{name}{default}: {b.name}, {len(b.classes)} classes, length {'/'.join(map(str, b.lengths))}, "
              f"{i['representation']} {i['layout']} {i['normalization']}, "
              f"sps {'/'.join(map(str, sps))}, "
              f"SNR {t.get('snr_range', '?')}; {acc}")  # fmt: skip
        if args.verbose:
            print(f"    classes: {' '.join(b.classes)}\n    path: {b.path}")
    return 0


def cmd_quantize(args) -> int:
    from . import training

    training.quantize(args.run, args.out, args.calibration)
    print(open(os.path.join(args.out, "table.md")).read(), end="")
    return 0


def cmd_prune(args) -> int:
    from . import pruning

    pruning.prune(args.run, args.out, args.sparsity, args.epochs, args.batch, args.lr, args.frequency,
                  args.scope, args.keep)  # fmt: skip
    print(open(os.path.join(args.out, "table.md")).read(), end="")
    print(f"pruned runs, plot and tables in {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amc", description="gr-amc: modulation classification for GNU Radio"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the main job on a built-in signal: decisions of the headless flowgraph")
    _add_spec_args(p)
    p.add_argument("--samples", type=int, default=1 << 16, help="samples to process")
    p.add_argument("--sps", type=int, default=8, help="samples per symbol of the test signal")
    p.add_argument("--esn0", type=float, default=20.0, help="Es/N0 of the test signal in dB")
    p.add_argument("--show", type=int, default=5, help="vectors to print")
    p.add_argument(
        "--vectors", action="store_true", help="the vectorizer alone: print vectors, not decisions"
    )
    p.add_argument("--model", default="default", help="model bundle for the decisions")
    p.add_argument("--segment", type=int, default=1 << 15, help="samples of each modulation in turn")
    p.add_argument("--json", help="also write the decisions as JSON lines to this file (- = stdout)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="benchmarks")
    bsub = p.add_subparsers(dest="what", required=True)
    b = bsub.add_parser("vectorizer", help="vectorizer MS/s against blocks.stream_to_vector")
    b.add_argument("--windows", type=int, nargs="+", default=[128, 1024])
    b.add_argument("--samples", type=int, default=20_000_000, help="samples per timed run")
    b.add_argument("--rounds", type=int, default=3, help="timed runs per configuration (best counts)")
    b.add_argument("--cores", type=int, default=1, help="CPUs the flowgraph may use (0: all)")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench)

    b = bsub.add_parser(
        "classifier", help="classifier windows/s in a flowgraph against Keras predict; real time"
    )
    b.add_argument("--model", default="default")
    b.add_argument("--windows", type=int, default=100_000, help="windows per throughput run")
    b.add_argument("--rounds", type=int, default=2, help="throughput runs (best counts)")
    b.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="model runtime threads to try")
    b.add_argument("--rate", type=float, default=1e6, help="sample rate of the real-time run")
    b.add_argument("--realtime", type=float, default=30, help="seconds of the real-time run (0: skip)")
    b.add_argument("--realtime-threads", type=int, default=1,
                   help="model threads in the real-time run (1 leaves a core to the flowgraph)")  # fmt: skip
    b.add_argument("--warmup", type=float, default=5, help="seconds before the real-time figures start")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench_classifier)

    b = bsub.add_parser("training", help="s/epoch of the zoo models on an RML2016.10a-size set (002 Table I)")
    b.add_argument("--models", nargs="+", help="zoo models (default: all)")
    b.add_argument("--steps", type=int, default=10, help="timed training steps per model (median counts)")
    b.add_argument("--warmup", type=int, default=3, help="untimed steps first (graph building)")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench_training)

    p = sub.add_parser("dataset", help="RadioML-style datasets")
    dsub = p.add_subparsers(dest="what", required=True)
    g = dsub.add_parser("generate", help="regenerate a RadioML-style dataset")
    g.add_argument("--preset", choices=["rml2016.10a", "rml2018.01a", "modified"], default="rml2016.10a")
    g.add_argument("--classes", nargs="+", help="subset or order of classes (default: the preset's)")
    g.add_argument("--sps", type=int, nargs="+", help="samples per symbol (one or more)")
    g.add_argument("--length", type=int, nargs="+", help="vector lengths (one or more)")
    g.add_argument(
        "--snr", type=int, nargs="+", metavar="DB", help="START STOP [STEP]: Es/N0 labels, inclusive"
    )
    g.add_argument("--per", type=int, help="vectors per class, SNR, sps and length")
    g.add_argument("--channel", choices=["rml2016", "awgn", "none"], default="rml2016")
    g.add_argument(
        "--compat", action="store_true", help="the original generator's noise formula and L1 scaling"
    )
    g.add_argument(
        "--normalization", choices=features.NORMALIZATIONS, help="per-vector scaling (default none)"
    )
    g.add_argument("--rolloff", type=float, default=0.35, help="root-raised-cosine roll-off")
    g.add_argument("--format", choices=["pickle", "hdf5"], help="default: the preset's")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes")
    g.add_argument("--out", required=True, help="output file")
    g.add_argument("--force", action="store_true", help="overwrite an existing file")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_dataset_generate)
    i = dsub.add_parser("info", help="what a dataset file holds")
    i.add_argument("file")
    i.set_defaults(func=cmd_dataset_info)

    t = sub.add_parser("train", help="train a zoo model (the papers' protocol by default)")
    t.add_argument("--model", required=True, help="zoo model name (an unknown name lists them)")
    t.add_argument("--data", required=True, help="dataset file (HDF5 or RML2016 pickle)")
    t.add_argument("--out", required=True, help="run directory")
    t.add_argument("--length", type=int, nargs="+",
                   help="vector length(s) in the file; variable-length models take several")  # fmt: skip
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--batch", type=int, default=400)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--lr-patience", type=int, default=5, help="epochs without improvement before halving lr")
    t.add_argument("--stop-patience", type=int, default=50, help="epochs without improvement before stopping")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--augment-phase", action="store_true", help="random carrier phase per vector")
    t.add_argument("--augment-freq", type=float, default=0.0, help="random frequency offset (cycles/sample)")
    t.add_argument("--augment-shift", type=int, default=0, help="random circular time shift (samples)")
    t.add_argument("--max-train", type=int, help="use at most this many training vectors")
    t.add_argument("--snr-min", type=float, help="train and validate only on SNRs >= this (dB)")
    t.add_argument("--snr-max", type=float, help="train and validate only on SNRs <= this (dB)")
    t.add_argument("--init", help="start from the weights of this finished run (same model and classes)")
    t.add_argument("--resume", action="store_true", help="continue an interrupted run")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate runs on their common test split")
    e.add_argument("runs", nargs="+", help="run directories of amc train")
    e.add_argument("--out", required=True, help="directory for the tables and plots")
    e.add_argument("--confusion-snr", type=int, nargs="*", default=[0, 10], help="SNRs of confusion matrices")
    e.add_argument("--data", help="test on all of this file instead (e.g. a length never trained on)")
    e.add_argument("--length", type=int, help="vector length in --data (files holding several)")
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", help="export a trained run as a frozen LiteRT bundle")
    x.add_argument("run", help="run directory of amc train")
    x.add_argument("--out", required=True, help="bundle directory to write")
    x.add_argument("--batch", type=int, default=256, help="most vectors per model call")
    x.add_argument("--lengths", type=int, nargs="+", help="input lengths (variable-length models)")
    x.add_argument("--force", action="store_true", help="replace an existing bundle")
    x.add_argument("--no-evaluate", action="store_true", help="skip the test-split evaluation")
    x.add_argument("--unseen", nargs="+", help="also test on all of these files (lengths not trained on)")
    x.set_defaults(func=cmd_export)

    q = sub.add_parser("quantize", help="int8 post-training quantisation of a run, against its float model")
    q.add_argument("run", help="run directory of amc train")
    q.add_argument("--out", required=True, help="directory for the float and int8 bundles and the table")
    q.add_argument("--calibration", type=int, default=512, help="training vectors that calibrate the ranges")
    q.set_defaults(func=cmd_quantize)

    r = sub.add_parser("prune", help="magnitude pruning with 002's cubic schedule: its Table II for a run")
    r.add_argument("run", help="run directory of amc train")
    r.add_argument("--out", required=True, help="directory for the pruned runs, table and plot")
    r.add_argument(
        "--sparsity", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95], help="final sparsities"
    )
    r.add_argument("--epochs", type=int, default=5, help="fine-tuning epochs per sparsity (002: 5)")
    r.add_argument("--batch", type=int, default=128, help="fine-tuning batch (002: 128)")
    r.add_argument("--lr", type=float, default=1e-3, help="fine-tuning learning rate (Adam)")
    r.add_argument("--frequency", type=int, default=100, help="steps between mask updates (dt of eq. 3)")
    r.add_argument("--scope", default="layer",
                   help="layer: every kernel cut to the sparsity; global: all kernels together")  # fmt: skip
    r.add_argument(
        "--keep", nargs="+", default=[], metavar="LAYER", help="layers left dense (e.g. phase_estimator)"
    )
    r.set_defaults(func=cmd_prune)

    c = sub.add_parser("classify", help="classify a recording (cf32, SigMF, WAV I/Q, .npy)")
    c.add_argument("recording", help=".cf32/.raw (complex64), .sigmf-meta, .wav (2 channels) or .npy")
    c.add_argument("--model", default="default", help="bundle directory or shipped name (amc models)")
    c.add_argument("--rate", type=float, help="sample rate (Hz), when the file does not say")
    c.add_argument("--symbol-rate", type=float, help="resample to the model's samples per symbol first")
    c.add_argument("--length", type=int, help="window length (variable-length models)")
    c.add_argument("--hop", type=int, help="samples between windows (default: the window)")
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    c.add_argument("--no-annotate", action="store_true", help="leave SigMF metadata alone")
    c.set_defaults(func=cmd_classify)

    m = sub.add_parser("models", help="list the shipped model bundles")
    m.add_argument("-v", "--verbose", action="store_true")
    m.set_defaults(func=cmd_models)

    p = sub.add_parser("version", help="print the gr-amc version")
    p.set_defaults(func=lambda args: print(__version__) or 0)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, pickle.UnpicklingError) as e:  # BundleError is a ValueError
        print(f"amc: error: {e}", file=sys.stderr)
        return 2
