# SPDX-License-Identifier: GPL-3.0-or-later
"""`amc`: the gr-amc command line.

amc demo                 the main job on its built-in default signal
amc bench vectorizer     vectorizer throughput against blocks.stream_to_vector
amc version
"""

from __future__ import annotations

import argparse
import json
import sys

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

    spec = _spec(args)
    hop = spec.window if args.hop is None else args.hop
    result = demo.run(spec, hop, args.samples, args.sps, args.esn0)
    print(demo.report(spec, hop, args.samples, result, args.show))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amc", description="gr-amc: modulation classification for GNU Radio"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the main job on a built-in test signal")
    _add_spec_args(p)
    p.add_argument("--samples", type=int, default=1 << 16, help="samples to process")
    p.add_argument("--sps", type=int, default=8, help="samples per symbol of the test signal")
    p.add_argument("--esn0", type=float, default=20.0, help="Es/N0 of the test signal in dB")
    p.add_argument("--show", type=int, default=5, help="vectors to print")
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

    p = sub.add_parser("version", help="print the gr-amc version")
    p.set_defaults(func=lambda args: print(__version__) or 0)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:
        print(f"amc: error: {e}", file=sys.stderr)
        return 2
