# SPDX-License-Identifier: GPL-3.0-or-later
"""amc demo: the main job on its built-in default signal."""

from __future__ import annotations

from .common import add_spec_args, spec_of


def cmd_demo(args) -> int:
    from ..tools import demo

    if not args.vectors:
        tb = demo.sensor_demo(args.model, segment=args.segment, esn0_db=args.esn0, json_path=args.json)
        tb.run()
        print(demo.sensor_report(tb))
        return 0
    spec = spec_of(args)
    hop = spec.window if args.hop is None else args.hop
    result = demo.run(spec, hop, args.samples, args.sps, args.esn0)
    print(demo.report(spec, hop, args.samples, result, args.show))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("demo", help="the main job on a built-in signal: decisions of the headless flowgraph")
    add_spec_args(p)
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
