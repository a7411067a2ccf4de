# SPDX-License-Identifier: GPL-3.0-or-later
"""amc dataset: generate RadioML-style datasets and say what a file holds."""

from __future__ import annotations

import os

from ..runtime import features


def cmd_dataset_generate(args) -> int:
    from ..datasets import generate as dataset

    preset = dataset.PRESETS[args.preset]
    if args.snr is not None and len(args.snr) not in (2, 3):
        raise ValueError("snr: give START STOP [STEP] in dB")
    snrs = preset.snrs if args.snr is None else dataset.snr_range(*args.snr)
    cfg = dataset.Config(
        classes=tuple(args.classes or preset.classes),
        sps=tuple(args.sps or preset.sps),
        lengths=tuple(args.length or preset.lengths),
        snrs=snrs,
        per=preset.per if args.per is None else args.per,
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
    from ..datasets import readers

    print(readers.info(args.file))
    return 0


def cmd_dataset_scene(args) -> int:
    from ..datasets import scene

    x, truth = scene.make(args.rate, args.duration, args.signals, tuple(args.classes), tuple(args.bandwidth),
                          tuple(args.snr), args.bursts, args.seed)  # fmt: skip
    scene.write_sigmf(args.out, x, args.rate, truth, args.center_freq, args.datatype)
    print(f"wrote {args.out}.sigmf-data/-meta: {len(x):,} samples at {args.rate:g} S/s, {len(truth)} signals")
    for t in truth:
        centre = (args.center_freq + t.center_hz) / 1e6
        print(
            f"  {t.label:<6} {centre:12.4f} MHz  {t.bandwidth_hz / 1e3:8.1f} kHz  "
            f"{t.symbol_rate_hz / 1e3:8.2f} kBd  {t.snr_db:5.1f} dB  samples {t.start}-{t.stop}"
        )
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("dataset", help="RadioML-style datasets")
    dsub = p.add_subparsers(dest="what", required=True)
    g = dsub.add_parser("generate", help="regenerate a RadioML-style dataset")
    g.add_argument(
        "--preset",
        choices=["rml2016.10a", "rml2018.01a", "modified"],
        default="rml2016.10a",
        help="the dataset to regenerate; the options below change its settings",
    )
    g.add_argument("--classes", nargs="+", help="subset or order of classes (default: the preset's)")
    g.add_argument(
        "--sps", type=int, nargs="+", help="samples per symbol, one or more (default: the preset's)"
    )
    g.add_argument(
        "--length", type=int, nargs="+", help="vector lengths, one or more (default: the preset's)"
    )
    g.add_argument(
        "--snr",
        type=int,
        nargs="+",
        metavar="DB",
        help="START STOP [STEP]: Es/N0 labels, inclusive (default: the preset's)",
    )
    g.add_argument("--per", type=int, help="vectors per class, SNR, sps and length (default: the preset's)")
    g.add_argument(
        "--channel",
        choices=["rml2016", "awgn", "none"],
        default="rml2016",
        help="rml2016: fading, offsets and noise; awgn; none: the clean signal",
    )
    g.add_argument(
        "--compat", action="store_true", help="the original generator's noise formula and L1 scaling"
    )
    g.add_argument(
        "--normalization", choices=features.NORMALIZATIONS, help="per-vector scaling (default none)"
    )
    g.add_argument("--rolloff", type=float, default=0.35, help="root-raised-cosine roll-off")
    g.add_argument("--format", choices=["pickle", "hdf5"], help="default: the preset's")
    g.add_argument("--seed", type=int, default=0, help="the same seed writes the same bytes")
    g.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes")
    g.add_argument("--out", required=True, help="output file")
    g.add_argument("--force", action="store_true", help="overwrite an existing file")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_dataset_generate)
    c = dsub.add_parser("scene", help="a wideband SigMF scene of several signals, with its ground truth")
    c.add_argument("out", help="path without .sigmf-data / .sigmf-meta")
    c.add_argument("--rate", type=float, default=10e6, help="sample rate (S/s)")
    c.add_argument("--duration", type=float, default=1.0, help="seconds")
    c.add_argument("--signals", type=int, default=4)
    c.add_argument("--classes", nargs="+", default=["QPSK", "BPSK", "QAM16", "8PSK"],
                   help="digital classes drawn from (RML2016 and RML2018 names)")  # fmt: skip
    c.add_argument("--bandwidth", type=float, nargs=2, default=[25e3, 1e6], metavar=("LOW", "HIGH"),
                   help="occupied bandwidths drawn from (Hz)")  # fmt: skip
    c.add_argument("--snr", type=float, nargs=2, default=[10, 25], metavar=("LOW", "HIGH"),
                   help="in-band SNRs drawn from (dB)")  # fmt: skip
    c.add_argument("--bursts", action="store_true", help="every second signal in 50-200 ms bursts")
    c.add_argument("--center-freq", type=float, default=0.0, help="Hz of the band's centre (SigMF capture)")
    c.add_argument("--datatype", choices=["cf32_le", "ci16_le"], default="cf32_le")
    c.add_argument("--seed", type=int, default=0)
    c.set_defaults(func=cmd_dataset_scene)
    i = dsub.add_parser("info", help="what a dataset file holds")
    i.add_argument("file")
    i.set_defaults(func=cmd_dataset_info)
