# SPDX-License-Identifier: GPL-3.0-or-later
"""amc bench: the benchmarks of the vectorizer, the blind front end, the classifier block and training
(docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import sys

from ..runtime import bundle as bundles
from ..runtime.atomic import write_json


def cmd_bench_classifier(args) -> int:
    from ..tools import bench_classifier as bc

    b = bundles.load(args.model)
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
        write_json(args.json, out)
    return 0


def cmd_bench(args) -> int:
    from ..tools import bench_vectorizer as bench

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


def _run_tool(bench, configurations, args) -> int:
    """A tools/bench_* module's run over `configurations`, its table, and --json."""
    cores = args.cores or None
    results = bench.run(tuple(configurations), args.samples, args.rounds, cores)
    print(bench.table(results, cores))
    if args.json:
        write_json(
            args.json,
            {"cores": os.cpu_count(), "results": [dict(r.__dict__, ratio=r.ratio) for r in results]},
        )
    return 0


def cmd_bench_normalizer(args) -> int:
    from ..tools import bench_normalizer

    return _run_tool(bench_normalizer, args.sps, args)


def cmd_bench_detector(args) -> int:
    from ..tools import bench_detector

    return _run_tool(bench_detector, args.fft, args)


def cmd_bench_scanner(args) -> int:
    from ..tools import bench_scanner

    cores = args.cores or None
    results = bench_scanner.run(tuple(args.signals), args.samples, args.rounds, cores, args.seconds)
    print(bench_scanner.table(results, cores))
    if args.json:
        write_json(args.json, {"cores": os.cpu_count(), "seconds": args.seconds,
                               "results": [dict(r.__dict__, ratio=r.ratio) for r in results]})  # fmt: skip
    return 0


def cmd_bench_training(args) -> int:
    from ..ml import models
    from ..tools import bench_training

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
        write_json(args.json, {"cores": os.cpu_count(), "results": rows})
    return 0


def add_commands(sub) -> None:
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
        "normalizer", help="blind front end MS/s (estimator + normalizer) against pfb_arb_resampler_ccf"
    )
    b.add_argument("--sps", type=float, nargs="+", default=[4.0, 16.0, 64.0], help="input samples per symbol")
    b.add_argument("--samples", type=int, default=40_000_000, help="samples per timed run")
    b.add_argument("--rounds", type=int, default=3, help="timed runs per configuration (best counts)")
    b.add_argument("--cores", type=int, default=1, help="CPUs the flowgraph may use (0: all)")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench_normalizer)

    b = bsub.add_parser(
        "detector", help="wideband channel detector MS/s against fft_vcc + complex_to_mag_squared"
    )
    b.add_argument("--fft", type=int, nargs="+", default=[4096, 8192], help="FFT sizes")
    b.add_argument("--samples", type=int, default=200_000_000, help="samples per timed run")
    b.add_argument("--rounds", type=int, default=3, help="timed runs per configuration (best counts)")
    b.add_argument("--cores", type=int, default=1, help="CPUs the flowgraph may use (0: all)")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench_detector)

    b = bsub.add_parser(
        "scanner", help="the whole band scanner at 10 MS/s: MS/s against the detector alone; real time, paced"
    )
    b.add_argument("--signals", type=int, nargs="+", default=[6], help="signals in the band")
    b.add_argument("--samples", type=int, default=100_000_000, help="samples per unpaced run")
    b.add_argument("--rounds", type=int, default=1, help="unpaced runs per configuration (best counts)")
    b.add_argument("--seconds", type=float, default=20.0, help="seconds of the paced (real-time) run")
    b.add_argument("--cores", type=int, default=0, help="CPUs the flowgraph may use (0: all)")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench_scanner)

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

    b = bsub.add_parser(
        "training", help="s/epoch of the zoo models on an RML2016.10a-size set (Zhang et al. 2021 Table I)"
    )
    b.add_argument("--models", nargs="+", help="zoo models (default: all)")
    b.add_argument("--steps", type=int, default=10, help="timed training steps per model (median counts)")
    b.add_argument("--warmup", type=int, default=3, help="untimed steps first (graph building)")
    b.add_argument("--json", help="also write the results to this JSON file")
    b.set_defaults(func=cmd_bench_training)
