# SPDX-License-Identifier: GPL-3.0-or-later
"""amc classify and amc models: recordings through a bundle; the shipped bundles."""

from __future__ import annotations

import json
import sys

import numpy as np
from gnuradio import blocks, filter, gr

from .._version import __version__
from ..blocks.classifier import classify_windows
from ..runtime import bundle, recordings


def cmd_classify(args) -> int:
    for name in ("threads", "hop", "rate", "symbol_rate"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} {value} must be > 0")
    b = bundle.load(args.model)
    rec = recordings.read(args.recording)
    for warning in rec.warnings:
        print(f"amc: warning: {warning}", file=sys.stderr)
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
    tb = gr.top_block()
    src = blocks.vector_source_c(samples.tolist())
    rs = filter.pfb.arb_resampler_ccf(ratio, [], 32, 100)
    sink = blocks.vector_sink_c()
    tb.connect(src, rs, sink)
    tb.run()
    return np.array(sink.data(), np.complex64)


def cmd_models(args) -> int:
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


def add_commands(sub) -> None:
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
