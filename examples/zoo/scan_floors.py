#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wideband scanner measured on scenes of the independent generator (cross_scene.py):
detection (signals found, centre and bandwidth errors, bursts), false signals in noise alone,
and the labels `amc scan` gives the signals it found.

    examples/zoo/scan_floors.py [--scenes 8] [--noise-seconds 60] [--out docs/scan]

Scenes: 10 MS/s, 1 s, 3-6 signals of 25 kHz-1 MHz occupied at 10-25 dB in band (Es/N0), every
other scene with every second signal in 50-200 ms bursts. A signal counts as found when a
detected signal overlaps half its time and its centre lies within the truth's -3 dB band; errors
are against the truth's -3 dB bandwidth (which is the symbol rate for the linear classes).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cross_scene  # noqa: E402

RATE = 10e6
LINEAR = ("BPSK", "QPSK", "8PSK", "PAM4", "QAM16", "QAM64")


def match(truth: dict, found: list[dict]):
    """The detected signal that is this truth, or None."""
    best, best_overlap = None, 0.5 * (truth["stop"] - truth["start"])
    for s in found:
        overlap = min(truth["stop"], s["last_sample"]) - max(truth["start"], s["first_sample"])
        if (
            abs(s["center_hz"] - truth["center_hz"]) <= truth["bandwidth_3db_hz"] / 2
            and overlap >= best_overlap
        ):
            best, best_overlap = s, overlap
    return best


def scenes(n: int, seed: int):
    from gnuradio.amc.blocks import offline
    from gnuradio.amc.runtime import bundle

    b = bundle.load("default")
    rows = []
    for i in range(n):
        rng = np.random.default_rng(seed + i)
        x, truth = cross_scene.scene(rng, RATE, 1.0, int(rng.integers(3, 7)), bursts=bool(i % 2))
        found = offline.detect(x, RATE, 0.0, 8192, 6.0)
        labels = {}
        for t in truth:
            s = match(t, found)
            keys = ("class", "snr_db", "burst", "symbol_rate_hz", "bandwidth_3db_hz")
            row = {"scene": i, **{k: t[k] for k in keys},
                   "duration_s": (t["stop"] - t["start"]) / RATE, "found": s is not None}  # fmt: skip
            if s is not None:
                if s["id"] not in labels:
                    first, last = int(s["first_sample"]), min(int(s["last_sample"]), len(x))
                    ch, _ = offline.channel(
                        x[first:last], RATE, s["center_hz"], s["bandwidth_hz"], s["occupied_hz"]
                    )
                    labels[s["id"]] = offline.classify_signal(b, ch, 8, 2)["label"]
                row.update(center_error=abs(s["center_hz"] - t["center_hz"]) / t["bandwidth_3db_hz"],
                           bandwidth_error=abs(s["bandwidth_hz"] / t["bandwidth_3db_hz"] - 1),
                           label=labels[s["id"]])  # fmt: skip
            rows.append(row)
        matched = {id(match(t, found)) for t in truth}
        false = [s for s in found if id(s) not in matched]
        rows.append({"scene": i, "false_signals": len(false)})
        print(
            f"scene {i}: {len(truth)} signals, {len(found)} detected, {len(false)} not matched",
            file=sys.stderr,
        )
    return rows


def noise_only(seconds: float) -> int:
    """Signals announced in `seconds` of white noise at 10 MS/s (GNU Radio's noise source)."""
    import pmt
    from gnuradio import amc, analog, blocks, gr

    tb = gr.top_block()
    det = amc.channel_detector(RATE, 0.0, 8192, 8, 6.0)
    store = blocks.message_debug()
    tb.connect(analog.noise_source_c(analog.GR_GAUSSIAN, 1.0, 7), blocks.head(8, int(seconds * RATE)), det)
    tb.msg_connect(det, "signals", store, "store")
    tb.run()
    events = [pmt.to_python(store.get_message(i)) for i in range(store.num_messages())]
    return sum(1 for e in events if e.get("event") == "start")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenes", type=int, default=8)
    p.add_argument("--noise-seconds", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=100)
    p.add_argument("--out", help="directory for floors.json and table.md")
    a = p.parse_args(argv)
    rows = scenes(a.scenes, a.seed)
    sig = [r for r in rows if "found" in r]
    strong = [r for r in sig if r["snr_db"] >= 10]
    found = [r for r in strong if r["found"]]
    lin = [r for r in found if r["class"] in LINEAR]
    bursts = [r for r in strong if r["burst"] and r["duration_s"] >= 0.05]
    false_signals = sum(r.get("false_signals", 0) for r in rows)
    false_noise = noise_only(a.noise_seconds) if a.noise_seconds > 0 else None

    def pct(x):
        return f"{100 * x:.1f} %"

    def share(rs, key, limit):
        return np.mean([r[key] <= limit for r in rs]) if rs else float("nan")

    summary = {
        "signals": len(strong), "found": len(found) / max(1, len(strong)),
        "centre_within_2pct": share(lin, "center_error", 0.02),
        "bandwidth_within_15pct": share(lin, "bandwidth_error", 0.15),
        "centre_error_p95": float(np.percentile([r["center_error"] for r in lin], 95)) if lin else None,
        "bandwidth_error_p95": float(np.percentile([r["bandwidth_error"] for r in lin], 95)) if lin else None,
        "bursts": len(bursts), "bursts_found": np.mean([r["found"] for r in bursts]) if bursts else None,
        "false_in_scenes": false_signals, "false_in_noise": false_noise, "noise_seconds": a.noise_seconds,
        "labelled_right": np.mean([r["label"] == r["class"] for r in found]) if found else None,
        "labelled_right_linear": np.mean([r["label"] == r["class"] for r in lin]) if lin else None,
    }  # fmt: skip
    lines = [
        "| measure | figure | floor |", "|---|---|---|",
        f"| signals at ≥ 10 dB in band found | {pct(summary['found'])} of {len(strong)} | ≥ 95 % |",
        f"| centre within 2 % of the bandwidth (linear) | {pct(summary['centre_within_2pct'])} | all |",
        f"| bandwidth within 15 % (linear classes) | {pct(summary['bandwidth_within_15pct'])} | all |",
        f"| bursts (50-200 ms) found | {pct(summary['bursts_found'] or 0)} of {len(bursts)} | all |",
        f"| false signals in {a.noise_seconds:g} s of noise | {false_noise} | ≤ 1 per minute |",
        f"| detections matching no signal in the scenes | {false_signals} | |",
        f"| found signals labelled right (all / linear classes) | {pct(summary['labelled_right'] or 0)} / "
        f"{pct(summary['labelled_right_linear'] or 0)} | ≥ 90 % (digital) |",
        "", "| class | signals | found | labelled right |", "|---|---:|---:|---:|",
    ]  # fmt: skip
    for name in sorted({r["class"] for r in strong}):
        rs = [r for r in strong if r["class"] == name]
        right = [r for r in rs if r["found"] and r["label"] == name]
        lines.append(f"| {name} | {len(rs)} | {sum(r['found'] for r in rs)} | {len(right)} |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "floors.json"), "w") as f:
            json.dump({"settings": vars(a), "summary": summary, "rows": rows}, f, indent=1, default=float)
        with open(os.path.join(a.out, "table.md"), "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
