# SPDX-License-Identifier: GPL-3.0-or-later
"""amc scan: every signal of a wideband recording found (amc.channel_detector), cut out of
the band, estimated and classified, as a table, JSON, SigMF annotations and a waterfall."""

from __future__ import annotations

import json
import sys

import numpy as np

from .._version import __version__
from ..blocks.offline import channel, classify_signal, detect
from ..runtime import bundle, recordings
from ..runtime.estimate import si


def cmd_scan(args) -> int:
    for name in ("rate", "threshold", "threads", "k"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise ValueError(f"--{name} {value} must be > 0")
    if args.fft & (args.fft - 1) or not 64 <= args.fft <= 65536:
        raise ValueError(f"--fft {args.fft} must be a power of two in 64 .. 65536")
    if args.center_freq is not None and not np.isfinite(args.center_freq):
        raise ValueError(f"--center-freq {args.center_freq} must be a finite frequency (Hz)")
    rec = recordings.read(args.recording)
    if rec.windows:
        raise ValueError(f"{args.recording} holds windows, not a stream: nothing to scan")
    rate = args.rate or rec.samp_rate
    if not rate:
        raise ValueError("amc scan needs the sample rate: --rate, or SigMF/WAV metadata")
    center = rec.center_freq if args.center_freq is None else args.center_freq
    b = bundle.load(args.model)
    found = detect(rec.samples, rate, center, args.fft, args.threshold)
    rows = []
    for s in found:
        first, last = int(s["first_sample"]), min(int(s["last_sample"]), len(rec.samples))
        x, crate = channel(
            rec.samples[first:last], rate, s["center_hz"] - center, s["bandwidth_hz"], s["occupied_hz"]
        )
        c = classify_signal(b, x, args.k, args.threads)
        e = c.pop("estimate", None)
        rows.append({**{key: s[key] for key in ("id", "center_hz", "bandwidth_hz", "snr_db", "power_db",
                                                "first_seen", "last_seen", "first_sample", "last_sample")},
                     "symbol_rate_hz": e.symbol_rate * crate if e and e.symbol_rate else None,
                     "kind": e.kind if e else None, **c})  # fmt: skip
    report = {"recording": {"path": args.recording, "sample_rate": rate, "center_freq": center,
                            "samples": len(rec.samples)},
              "model": b.id, "signals": rows}  # fmt: skip
    print(json.dumps(report, indent=1) if args.json else as_text(report))
    if rec.meta_path and not args.no_annotate:
        n = recordings.write_annotations(rec.meta_path, "scan", [annotation(r, b) for r in rows])
        print(f"wrote {n} annotations (one per signal) to {rec.meta_path}", file=sys.stderr)
    if args.plot:
        waterfall(rec.samples, rate, center, rows, args.plot, args.fft)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def annotation(r: dict, b) -> dict:
    a = {"core:sample_start": r["first_sample"], "core:sample_count": r["last_sample"] - r["first_sample"],
         "core:freq_lower_edge": r["center_hz"] - r["bandwidth_hz"] / 2,
         "core:freq_upper_edge": r["center_hz"] + r["bandwidth_hz"] / 2,
         "core:label": r["label"], "core:generator": f"gr-amc {__version__}",
         "amc:signal": r["id"], "amc:snr_db": round(r["snr_db"], 2), "amc:model": b.id}  # fmt: skip
    if r.get("confidence") is not None:
        a["amc:confidence"] = round(r["confidence"], 4)
    if r.get("symbol_rate_hz"):
        a["amc:symbol_rate_hz"] = r["symbol_rate_hz"]
    return a


def as_text(r: dict) -> str:
    rec = r["recording"]
    lines = [f"recording  {rec['path']}: {rec['samples']:,} samples at {si(rec['sample_rate'])}Hz, "
             f"centre {si(rec['center_freq'])}Hz; model {r['model']}",
             f"{len(r['signals'])} signal(s)", "",
             f"{'id':>4}  {'centre':>14}  {'bandwidth':>11}  {'SNR':>7}  {'symbol rate':>12}  "
             f"{'seen':>15}  label"]  # fmt: skip
    for s in r["signals"]:
        rs = f"{si(s['symbol_rate_hz'])}Hz" if s["symbol_rate_hz"] else "-"
        conf = f" ({100 * s['confidence']:.0f} %)" if s.get("confidence") else ""
        why = f" ({s['why']})" if s.get("why") else ""
        lines.append(f"{s['id']:>4}  {si(s['center_hz']) + 'Hz':>14}  {si(s['bandwidth_hz']) + 'Hz':>11}  "
                     f"{s['snr_db']:5.1f} dB  {rs:>12}  {s['first_seen']:6.3f}-{s['last_seen']:6.3f} s  "
                     f"{s['label']}{conf}{why}")  # fmt: skip
    return "\n".join(lines)


def waterfall(samples: np.ndarray, rate: float, center: float, rows: list, path: str, fft_size: int) -> None:
    """A PNG waterfall of the recording with a labelled box per signal (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..runtime.atomic import AtomicFile

    lines = min(400, max(1, len(samples) // fft_size))
    step = len(samples) // lines
    w = np.hanning(fft_size)
    columns = min(fft_size, 1024)  # bins averaged to what a page shows (and a PNG keeps small)
    rows_db = np.empty((lines, columns), np.float32)
    for i in range(lines):  # each line: the mean spectrum of the FFTs in its step (up to 8)
        seg = samples[i * step : i * step + max(fft_size, min(step, 8 * fft_size))]
        seg = np.pad(seg, (0, -len(seg) % fft_size)).reshape(-1, fft_size)
        power = np.mean(np.abs(np.fft.fftshift(np.fft.fft(seg * w), axes=1)) ** 2, axis=0) / fft_size
        rows_db[i] = 10 * np.log10(power.reshape(columns, -1).mean(axis=1) + 1e-12)
    fig, ax = plt.subplots(figsize=(11, 6.5), dpi=80)
    extent = ((center - rate / 2) / 1e6, (center + rate / 2) / 1e6, len(samples) / rate, 0)
    floor = np.percentile(rows_db, 20)
    ax.imshow(rows_db, aspect="auto", extent=extent, cmap="viridis", vmin=floor - 5, vmax=floor + 35)
    for r in rows:
        lo, hi = (
            (r["center_hz"] - r["bandwidth_hz"] / 2) / 1e6,
            (r["center_hz"] + r["bandwidth_hz"] / 2) / 1e6,
        )
        t0, t1 = r["first_seen"], r["last_seen"]
        ax.add_patch(plt.Rectangle((lo, t0), hi - lo, t1 - t0, fill=False, edgecolor="white", linewidth=1.2))
        conf = f" {100 * r['confidence']:.0f}%" if r.get("confidence") else ""
        ax.text(hi, t0, f" {r['id']}: {r['label']}{conf}", color="white", fontsize=8, va="top",
                bbox={"facecolor": "black", "alpha": 0.5, "pad": 1, "edgecolor": "none"})  # fmt: skip
    ax.set_xlabel("frequency (MHz)")
    ax.set_ylabel("time (s)")
    ax.set_title("amc scan: signals found and their labels")
    fig.tight_layout()
    with AtomicFile(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def add_commands(sub) -> None:
    c = sub.add_parser("scan", help="every signal of a wideband recording: found, cut out, classified")
    c.add_argument("recording", help=".cf32/.raw (complex64), .sigmf-meta, .wav (2 channels) or .npy")
    c.add_argument("--model", default="default", help="bundle directory or shipped name")
    c.add_argument("--rate", type=float, help="sample rate (Hz), when the file does not say")
    c.add_argument(
        "--center-freq", type=float, help="Hz of the recording's centre (default: SigMF's, else 0)"
    )
    c.add_argument("--fft", type=int, default=8192, help="detector bins")
    c.add_argument(
        "--threshold", type=float, default=6.0, help="detection threshold over the noise floor (dB)"
    )
    c.add_argument("--k", type=int, default=8, help="windows the decision is smoothed over")
    c.add_argument("--threads", type=int, default=2, help="model threads")
    c.add_argument("--json", action="store_true", help="the report as one JSON document")
    c.add_argument("--plot", help="write a waterfall PNG with a labelled box per signal")
    c.add_argument("--no-annotate", action="store_true", help="leave SigMF metadata alone")
    c.set_defaults(func=cmd_scan)
