# SPDX-License-Identifier: GPL-3.0-or-later
"""amc classify and amc models: recordings through a bundle; the shipped bundles."""

from __future__ import annotations

import json
import sys

import numpy as np

from .._version import __version__
from ..blocks.classifier import classify_windows
from ..blocks.offline import HYSTERESIS, THRESHOLD, blind, decisions, resample, summary
from ..runtime import bundle, estimate, recordings
from ..runtime.estimate import si
from ..runtime.progress import Progress


def cmd_classify(args) -> int:
    for name in ("threads", "hop", "rate", "symbol_rate", "k"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise ValueError(f"--{name.replace('_', '-')} {value} must be > 0")
    b = bundle.load(args.model)
    rec = recordings.read(args.recording)
    for warning in rec.warnings:
        print(f"amc: warning: {warning}", file=sys.stderr)
    rate = args.rate or rec.samp_rate
    samples, ratio, found = rec.samples, 1.0, None
    if args.symbol_rate:
        if rec.windows or not rate:
            raise ValueError(
                "--symbol-rate needs a stream and its sample rate (--rate, or SigMF/WAV metadata)"
            )
        ratio = b.sps * args.symbol_rate / rate
        samples = resample(samples, ratio, 0.0, b.sps)
    elif not rec.windows and not args.no_estimate and len(samples) >= estimate.MIN_SAMPLES:
        found, samples, ratio = blind(samples, b.sps)
        for warning in found.warnings if found.kind != "none" else ():
            print(f"amc: warning: {warning}", file=sys.stderr)
        if found.kind == "none":
            print(json.dumps({"estimate": found.as_dict(rate or 1.0), "segments": [], "summary": {}})
                  if args.json else "no signal above the noise floor: nothing classified")  # fmt: skip
            return 0
    length = samples.shape[1] if rec.windows else (args.length or b.lengths[0])
    runner = b.runner(length, args.threads)
    n_windows = len(samples) if rec.windows else max(0, (len(samples) - length) // (args.hop or length) + 1)
    bar = Progress(n_windows, "classifying") if n_windows >= PROGRESS_FROM else None
    starts, labels, conf, probs = classify_windows(
        runner, b.classes, b.spec(length), samples, args.hop, bar.step if bar else None
    )
    # offsets in the recording's own samples, whatever the resampling
    starts = np.rint(np.asarray(starts, np.float64) / ratio).astype(np.int64)
    span = int(round(length / ratio))
    decided, smoothed = decisions(probs, b.classes, args.k)
    segs = recordings.segments(starts, decided, smoothed, span)
    report = {
        "model": {"name": b.id, "architecture": b.name, "path": b.path, "classes": b.classes,
                  "window": length, "samples_per_symbol": b.sps, **b.meta["input"]},
        "recording": {"path": args.recording, "kind": rec.kind, "samples": int(rec.samples.size),
                      "windows_given": bool(rec.windows), "sample_rate": rate,
                      "symbol_rate": args.symbol_rate, "resampled_by": ratio if ratio != 1.0 else None},
        "estimate": found.as_dict(rate or 1.0) if found else None,
        "smoothing": {"k": args.k, "threshold": THRESHOLD, "hysteresis": HYSTERESIS},
        "segments": [timed(seg, rate if not rec.windows else None) for seg in segs],
        "summary": summary(decided),
    }  # fmt: skip
    report["model"].pop("lengths", None)
    if args.windows:
        report["windows"] = [
            timed({"window": i, "start": int(st), "label": lab, "confidence": round(float(c), 4)},
                  rate if not rec.windows else None)
            for i, (st, lab, c) in enumerate(zip(starts, labels, conf, strict=True))
        ]  # fmt: skip
    print(json.dumps(report, indent=1) if args.json else as_text(report))
    if rec.meta_path and not args.no_annotate:
        n = recordings.annotate_sigmf(rec.meta_path, segs, b.id, b.name, f"gr-amc {__version__}")
        print(f"wrote {n} annotations (one per segment) to {rec.meta_path}", file=sys.stderr)
    return 0


PROGRESS_FROM = 20_000  # windows: a bar on stderr for files longer than this


def timed(row: dict, rate):
    """Start (and end) in seconds beside the samples, when the rate is known."""
    if rate:
        for key in ("start", "end"):
            if key in row:
                row[f"{key}_s"] = round(row[key] / rate, 6)
    if "confidence" in row:
        row["confidence"] = round(row["confidence"], 4)
    return row


def as_text(r: dict) -> str:
    m, rec = r["model"], r["recording"]
    rate = rec["sample_rate"]
    lines = [
        f"model      {m['name']} ({m['architecture']}, {len(m['classes'])} classes), window {m['window']} "
        f"({m['representation']}, {m['normalization']}), expects {m['samples_per_symbol']} samples "
        "per symbol",
        f"recording  {rec['path']}: {rec['samples']:,} samples"
        + (
            f" at {si(rate)}S/s ({rec['samples'] / rate:.3f} s)" if rate else " (sample rate unknown: --rate)"
        ),
    ]
    e = r.get("estimate")
    if e:
        lines.append(f"estimate   {estimate.describe(e, bool(rate))}")
    if rec["resampled_by"] and e:
        lines.append(f"           centred and resampled by {rec['resampled_by']:.6g} to "
                     f"{m['samples_per_symbol']} samples per symbol (--symbol-rate overrides)")  # fmt: skip
    elif rec["resampled_by"]:
        lines.append(f"           resampled by {rec['resampled_by']:.4g} to {m['samples_per_symbol']} "
                     "samples per "
                     f"symbol (symbol rate {si(rec['symbol_rate'])}Hz)")  # fmt: skip
    else:
        why = "no symbol rate found (analog?)" if e else "give --symbol-rate to resample"
        lines.append(f"           taken as {m['samples_per_symbol']} samples per symbol already ({why})")
    s = r["smoothing"]
    lines.append(f"segments   (decisions over {s['k']} windows; offsets in the recording's samples)")
    lines.append(
        f"  {'start (s)':>10} {'end (s)':>10} {'start':>10} {'end':>10} {'windows':>7}  "
        f"{'label':<10} confidence"
    )
    for seg in r["segments"]:
        t0 = f"{seg['start_s']:10.4f}" if "start_s" in seg else f"{'-':>10}"
        t1 = f"{seg['end_s']:10.4f}" if "end_s" in seg else f"{'-':>10}"
        lines.append(f"  {t0} {t1} {seg['start']:10d} {seg['end']:10d} {seg['windows']:7d}  "
                     f"{seg['label']:<10} {seg['confidence']:.3f}")  # fmt: skip
    lines.append("summary    " + ", ".join(f"{k} {100 * v:.1f} %" for k, v in r["summary"].items()))
    if "windows" in r:
        lines.append(f"windows\n  {'window':>7} {'start':>10} {'time (s)':>10}  {'label':<10} confidence")
        for w in r["windows"]:
            t = f"{w['start_s']:10.4f}" if "start_s" in w else f"{'-':>10}"
            lines.append(f"  {w['window']:7d} {w['start']:10d} {t}  {w['label']:<10} {w['confidence']:.3f}")
    return "\n".join(lines)


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
    c = sub.add_parser(
        "classify",
        help="what is in a recording (cf32, SigMF, WAV I/Q, .npy): segments and a summary",
    )
    c.add_argument("recording", help=".cf32/.raw (complex64), .sigmf-meta, .wav (2 channels) or .npy")
    c.add_argument("--model", default="default", help=f"bundle directory or shipped name ('default' is "
                   f"{bundle.DEFAULT}; amc models lists them)")  # fmt: skip
    c.add_argument("--rate", type=float, help="sample rate (Hz), when the file does not say")
    c.add_argument("--symbol-rate", type=float, help="the signal's symbol rate (Hz): resample to the "
                   "model's samples per symbol first (without it: estimated blindly)")  # fmt: skip
    c.add_argument("--no-estimate", action="store_true",
                   help="take the stream as at the model's samples per symbol already")  # fmt: skip
    c.add_argument("--length", type=int, help="window length (variable-length models; default: the first)")
    c.add_argument("--hop", type=int, help="samples between windows (default: the window)")
    c.add_argument("--k", type=int, default=8, help="windows the decision is smoothed over")
    c.add_argument("--threads", type=int, default=2, help="model threads")
    c.add_argument("--windows", action="store_true", help="also list every window")
    c.add_argument("--json", action="store_true", help="the same report as one JSON document")
    c.add_argument("--no-annotate", action="store_true", help="leave SigMF metadata alone")
    c.set_defaults(func=cmd_classify)

    m = sub.add_parser("models", help="list the shipped model bundles")
    m.add_argument("-v", "--verbose", action="store_true")
    m.set_defaults(func=cmd_models)
