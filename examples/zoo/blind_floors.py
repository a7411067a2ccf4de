#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The blind front end measured on the independent generator (cross_generator.py, which
shares no code with gr-amc): symbol-rate and carrier-offset errors of
gnuradio.amc.runtime.estimate, and the default model's accuracy behind the estimate
(centred, resampled to its samples per symbol) against the same signals made centred at
exactly its samples per symbol.

    examples/zoo/blind_floors.py [--per 6] [--snr 10 20] [--out docs/estimator]

Signals are 64k samples. A non-integer samples per symbol s is made at 2s and every second
sample kept (the generator works at whole samples per symbol).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cross_generator as cg  # noqa: E402

LINEAR = ("BPSK", "QPSK", "8PSK", "PAM4", "QAM16", "QAM64")
FSK = ("CPFSK", "GFSK")
RATE_SPS = (2.5, 3, 4, 5.5, 8, 12, 16, 20)
E2E_SPS = (3, 4, 5.5, 8, 12, 16)
N = 1 << 16
FLOOR_ESN0 = 10.0  # the rate floors hold from this Es/N0 (dB) up


def signal(name, sps, esn0_db, rng, cfo=0.0, n=N):
    """n samples at sps samples per symbol (half-integer ones by decimation), carrier offset cfo."""
    twice = 2 if sps != int(sps) else 1
    whole = int(round(sps * twice))
    x = cg.windows(name, 1, n * twice, whole, esn0_db + 10 * np.log10(whole / sps), rng, (0.2, 0.5))[0]
    x = x[::twice]
    return (x * np.exp(2j * np.pi * cfo * np.arange(n))).astype(np.complex64)


def rate_errors(per, snrs, rng):
    from gnuradio.amc.runtime.estimate import estimate

    rows = []
    for name in LINEAR + FSK:
        for sps in RATE_SPS:
            for snr in snrs:
                for _ in range(per):
                    cfo = rng.uniform(-0.1, 0.1)
                    e = estimate(signal(name, sps, snr, rng, cfo))
                    rel = abs(e.symbol_rate * sps - 1) if e.symbol_rate else np.inf
                    cfo_error = float(abs(e.cfo - cfo) * sps)  # as a share of the symbol rate
                    rows.append({"class": name, "sps": sps, "esn0_db": snr, "kind": e.kind,
                                 "rate_error": float(rel), "cfo_error_of_rs": cfo_error})  # fmt: skip
    return rows


def end_to_end(per, snr, rng):
    """Accuracy (share of windows) of the default model: blind front end vs centred at its sps."""
    from gnuradio.amc.blocks.classifier import classify_windows
    from gnuradio.amc.blocks.offline import resample
    from gnuradio.amc.runtime import bundle, estimate

    b = bundle.load("default")
    runner = b.runner(b.lengths[0], 2)
    spec = b.spec(b.lengths[0])
    out = {}

    def right(x, name):
        return np.mean(np.array(classify_windows(runner, b.classes, spec, x)[1]) == name)

    for name in LINEAR + FSK:
        ref = np.mean([right(signal(name, b.sps, snr, rng), name) for _ in range(per)])
        out[name] = {"centred at 8 sps": float(ref)}
        for sps in E2E_SPS:
            acc = []
            for _ in range(per):
                x = signal(name, sps, snr, rng, rng.uniform(-0.1, 0.1))
                e = estimate.estimate(x)
                if e.symbol_rate:
                    x = resample(x, b.sps * e.symbol_rate, e.cfo, b.sps, e.kind == "constant_envelope")
                acc.append(right(x, name))
            out[name][f"{sps} sps"] = float(np.mean(acc))
    return out


def percent(error: float) -> str:
    """A relative rate error for the table: "no rate" where more than that share had none."""
    return f"{100 * error:.4f} %" if np.isfinite(error) else "no rate"


def rate_table(rows: list, esn0s: list) -> tuple[list, dict]:
    """The rate and carrier rows of the table, and their summary, from rate_errors' rows."""
    lines = ["| signals | median rate error | p95 rate error | p95 carrier error (of Rs) | kind right |",
             "|---|---|---|---|---|"]  # fmt: skip
    summary = {}
    floor = [s for s in esn0s if s >= FLOOR_ESN0]  # the floors' range; the rows below show all
    groups = [(f"linear, {FLOOR_ESN0:g} dB and up", LINEAR, "linear", floor),
              (f"FSK, {FLOOR_ESN0:g} dB and up", FSK, "constant_envelope", floor)]  # fmt: skip
    groups += [(f"linear at {snr:g} dB", LINEAR, "linear", [snr]) for snr in esn0s if snr < FLOOR_ESN0]
    groups += [
        (f"{name} at {snr:g} dB", (name,), "constant_envelope", [snr]) for name in FSK for snr in esn0s
    ]
    for label, names, kind, snrs in groups:
        sel = [r for r in rows if r["class"] in names and r["esn0_db"] in snrs]
        if not sel:
            continue
        err = np.array([r["rate_error"] for r in sel])  # inf where no rate was found
        p95 = float(np.percentile(np.where(np.isfinite(err), err, 1e9), 95))
        cfo = np.array([r["cfo_error_of_rs"] for r in sel])
        right = np.mean([r["kind"] == kind for r in sel])
        summary[label] = {"median_rate_error": float(np.median(err)),
                          "p95_rate_error": p95 if p95 < 1e9 else float("inf"),
                          "max_rate_error": float(err.max()),
                          "p95_cfo_error_of_rs": float(np.percentile(cfo, 95)),
                          "kind_right": float(right), "signals": len(sel)}  # fmt: skip
        s = summary[label]
        lines.append(f"| {label} ({len(sel)}) | {percent(s['median_rate_error'])} | "
                     f"{percent(s['p95_rate_error'])} | {100 * s['p95_cfo_error_of_rs']:.2f} % | "
                     f"{100 * right:.1f} % |")  # fmt: skip
    return lines, summary


def plot_errors(rows: list, path: str) -> None:
    """Rate error (median and p95) and the share given no rate, against Es/N0, per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    snrs = sorted({r["esn0_db"] for r in rows})
    fig, (ax, miss) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, names in (("linear", LINEAR), ("CPFSK", ("CPFSK",)), ("GFSK", ("GFSK",))):
        med, p95, none = [], [], []
        for snr in snrs:
            err = np.array([r["rate_error"] for r in rows if r["class"] in names and r["esn0_db"] == snr])
            found = err[np.isfinite(err)]
            med.append(np.median(found) if len(found) else np.nan)
            p95.append(np.percentile(np.where(np.isfinite(err), err, 1.0), 95))
            none.append(100 * np.mean(~np.isfinite(err)))
        (line,) = ax.semilogy(snrs, 100 * np.array(med), "o-", label=f"{label} median")
        ax.semilogy(snrs, 100 * np.array(p95), "s--", color=line.get_color(), label=f"{label} p95")
        miss.plot(snrs, none, "o-", color=line.get_color(), label=label)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.axhline(2.0, color="grey", lw=0.8, ls="-.")
    ax.set(xlabel="Es/N0 (dB)", ylabel="relative symbol-rate error (%)",
           title="rate error (floors: linear p95 0.5 %, FSK 2 %; no rate counts 100 %)")  # fmt: skip
    ax.legend(fontsize=7, ncol=2)
    miss.set(xlabel="Es/N0 (dB)", ylabel="signals given no rate (%)", ylim=(-3, 103), title="no rate found")
    miss.legend(fontsize=8)
    fig.suptitle("blind symbol-rate estimate, independent generator, 64k samples, 2.5-20 sps")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per", type=int, default=6, help="signals per class, sps and SNR")
    p.add_argument("--snr", type=float, nargs="+", default=[10.0, 20.0], help="Es/N0 (dB)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="directory for floors.json, table.md and rate_vs_snr.png")
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    rows = rate_errors(a.per, a.snr, rng)
    lines, summary = rate_table(rows, a.snr)
    e2e = end_to_end(max(1, a.per // 2), max(a.snr), rng)
    cols = ["centred at 8 sps"] + [f"{s} sps" for s in E2E_SPS]
    lines += ["", f"| class (Es/N0 {max(a.snr):g} dB, CFO to ±10 %) | " + " | ".join(cols) + " |",
              "|---" * (len(cols) + 1) + "|"]  # fmt: skip
    for name, accs in e2e.items():
        lines.append(f"| {name} | " + " | ".join(f"{100 * accs[c]:.1f} %" for c in cols) + " |")
    means = {c: float(np.mean([e2e[n][c] for n in e2e])) for c in cols}
    lines.append("| mean | " + " | ".join(f"{100 * means[c]:.1f} %" for c in cols) + " |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "floors.json"), "w") as f:
            record = {"settings": vars(a), "rate": summary, "end_to_end": e2e, "mean": means, "rows": rows}
            json.dump(record, f, indent=1)
        with open(os.path.join(a.out, "table.md"), "w") as f:
            f.write(table + "\n")
        plot_errors(rows, os.path.join(a.out, "rate_vs_snr.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
