#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test models on signals from a generator other than the one they were trained on.

gr-amc's datasets come from GNU Radio flowgraphs (python/amc/datasets/generate.py) and its
training stream from datasets/synthetic.py. This file is a third, independent generator, written
from the textbook definitions with numpy only and sharing no code with gr-amc: random symbols of
the six linear modulations of RML2016.10a (and 16PSK, OOK, 4ASK and OQPSK of RML2018.01a) through
root-raised-cosine pulses of a random roll-off (0.2..0.5), and binary CPFSK, GFSK and GMSK from
their own frequency-pulse modulators (CPFSK h = 0.5, GFSK h = 0.8/pi with BT 0.35, as
RML2016.10a's; GMSK h = 0.5, BT 0.3); a random fractional symbol timing (1/8 sample),
carrier phase and frequency offset, optionally a mild two-ray multipath, and white noise at a
per-sample SNR (mean signal power over noise power per sample). A model that only learned
gr-amc's generators (their filters, their channel) falls over here.

    examples/zoo/cross_generator.py RUN_OR_BUNDLE... [--snr 0 4 10 16 20] [--cfo 0.002] [--out DIR]

Runs (amc train output directories) are run as Keras models, bundles (a name from `amc models` or
a path) on LiteRT, at their own window length (--length for a variable-length one); a model is
tested on the classes of this generator it knows (QAM16 is RML2018.01a's 16QAM, QAM64 its
64QAM). Prints a table per model (accuracy per class and SNR, the mean at SNR >= 10 dB) and,
with --out, writes table.md, accuracy.json and (--calibration) the data of a reliability
diagram: confidence against the share of windows right.
"""

import argparse
import json
import os
import sys

import numpy as np

RML2016 = ("BPSK", "QPSK", "8PSK", "PAM4", "QAM16", "QAM64", "CPFSK", "GFSK")  # RML2016.10a's digital classes
CLASSES = (*RML2016, "16PSK", "OOK", "4ASK", "OQPSK", "GMSK")
ALIASES = {"QAM16": "16QAM", "QAM64": "64QAM"}  # RML2018.01a's names of the same signals


def model_name(name: str, names) -> str:
    """What a model with class list `names` calls this generator's class `name`."""
    return name if name in names else ALIASES.get(name, name)


OVERSAMPLE = 8  # pulses are made at 8x the sample rate: the timing is random to 1/8 sample


def constellation(name: str) -> np.ndarray:
    """Unit average energy points of a linear modulation."""
    square = lambda m: np.array([a + 1j * b for a in range(1 - m, m, 2) for b in range(1 - m, m, 2)])  # noqa: E731
    points = {
        "BPSK": np.array([-1.0, 1.0]),
        "QPSK": np.exp(1j * np.pi * (0.25 + 0.5 * np.arange(4))),
        "8PSK": np.exp(1j * np.pi / 4 * np.arange(8)),
        "PAM4": np.array([-3.0, -1.0, 1.0, 3.0]),
        "16PSK": np.exp(1j * np.pi / 8 * np.arange(16)),
        "OOK": np.array([0.0, 1.0]),
        "4ASK": np.array([0.0, 1.0, 2.0, 3.0]),
        "OQPSK": np.exp(1j * np.pi * (0.25 + 0.5 * np.arange(4))),
        "QAM16": square(4),
        "QAM64": square(8),
    }[name]
    return points / np.sqrt(np.mean(np.abs(points) ** 2))


def rrc_taps(rolloff: float, sps: int, span: int = 8) -> np.ndarray:
    """Root-raised-cosine impulse response over `span` symbols each side, unit energy."""
    t = np.arange(-span * sps, span * sps + 1) / sps
    b = rolloff
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (np.sin(np.pi * t * (1 - b)) + 4 * b * t * np.cos(np.pi * t * (1 + b))) / (
            np.pi * t * (1 - (4 * b * t) ** 2)
        )
    h[t == 0] = 1 - b + 4 * b / np.pi
    if b > 0:  # the two removable singularities at t = ±1/(4b)
        edge = np.isclose(np.abs(t), 1 / (4 * b))
        h[edge] = (
            b
            / np.sqrt(2)
            * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * b)) + (1 - 2 / np.pi) * np.cos(np.pi / (4 * b)))
        )
    return h / np.sqrt(np.sum(h**2))


def gaussian_taps(bt: float, sps: int, span: int = 3) -> np.ndarray:
    """Gaussian filter of bandwidth-time product bt, unit DC gain (GFSK's pulse filter)."""
    t = np.arange(-span * sps, span * sps + 1) / sps
    a = np.sqrt(np.log(2) / 2) / bt
    h = np.exp(-((np.pi * t / a) ** 2))
    return h / h.sum()


def baseband(name: str, length: int, sps: int, rng, rolloff: float) -> np.ndarray:
    """`length` samples of one signal at a random fractional timing, before the channel."""
    fine = sps * OVERSAMPLE  # samples per symbol of the oversampled signal
    n_sym = length // sps + 20
    if name in ("CPFSK", "GFSK", "GMSK"):
        # the frequency is the NRZ bit stream (for GFSK and GMSK through a Gaussian filter); the
        # phase is its running sum, h * pi per symbol
        nrz = np.repeat(rng.choice([-1.0, 1.0], n_sym), fine)
        if name == "GFSK":
            h, freq = 0.8 / np.pi, np.convolve(nrz, gaussian_taps(0.35, fine), mode="same")
        elif name == "GMSK":
            h, freq = 0.5, np.convolve(nrz, gaussian_taps(0.3, fine), mode="same")
        else:
            h, freq = 0.5, nrz
        x = np.exp(1j * (np.pi * h * np.cumsum(freq) / fine + rng.uniform(0, 2 * np.pi)))
    else:
        impulses = np.zeros(n_sym * fine, np.complex128)
        impulses[::fine] = rng.choice(constellation(name), n_sym)
        if name == "OQPSK":  # the quadrature rail half a symbol behind the in-phase one
            impulses.imag = np.roll(impulses.imag, fine // 2)
        x = np.convolve(impulses, rrc_taps(rolloff, fine), mode="same")
    start = 10 * fine + rng.integers(fine)  # past the filter's settling, at a random 1/8-sample phase
    return x[start : start + length * OVERSAMPLE : OVERSAMPLE]


# A receiver's channel filter (windows(band=...)): Hamming-windowed FIR, cutting at band times the
# symbol rate (FSK at least FSK_BAND: a receiver passes its wider spectrum), settling in FILTER_PAD
FSK_BAND, FILTER_PAD = 1.15, 64


def windows(name: str, n: int, length: int, sps: int, esn0_db: float, rng: np.random.Generator,
            rolloff=0.35, cfo: float = 0.0, multipath: bool = False,
            band: float = 0.0) -> np.ndarray:  # fmt: skip
    """`n` complex windows of `length` samples at Es/N0 `esn0_db` (Es = sps * signal power per sample);
    rolloff: a value or a (low, high) range drawn per window; cfo: the largest |frequency offset| in
    cycles/sample; multipath: a second ray 1..2 samples late, 0.1..0.3 of the first's amplitude;
    band: if above 0, signal and noise through a receiver's low-pass at band times the symbol rate."""
    if band > 0:
        from scipy.signal import fftconvolve, firwin

        cut = max(band, FSK_BAND) if name in ("CPFSK", "GFSK", "GMSK") else band
        taps = firwin(2 * FILTER_PAD + 1, min(0.95, 2 * cut / sps))  # cutoff in half-cycles/sample
        wide = windows(name, n, length + 2 * FILTER_PAD, sps, esn0_db, rng, rolloff, cfo, multipath)
        return fftconvolve(wide, taps[None, :], mode="valid", axes=1)
    lo, hi = (rolloff, rolloff) if np.isscalar(rolloff) else rolloff
    out = np.empty((n, length), np.complex128)
    for k in range(n):
        x = baseband(name, length + 2, sps, rng, rng.uniform(lo, hi))
        if multipath:
            delay = rng.integers(1, 3)
            x[delay:] = x[delay:] + rng.uniform(0.1, 0.3) * np.exp(2j * np.pi * rng.uniform()) * x[:-delay]
        x = x[2:]
        f, phase = rng.uniform(-cfo, cfo), rng.uniform(0, 2 * np.pi)
        x = x * np.exp(1j * (2 * np.pi * f * np.arange(length) + phase)) / np.sqrt(np.mean(np.abs(x) ** 2))
        noise_power = sps * 10 ** (-esn0_db / 10)  # Es = sps (unit power per sample), N0 per sample
        noise = rng.standard_normal(length) + 1j * rng.standard_normal(length)
        out[k] = x + np.sqrt(noise_power / 2) * noise
    return out


# Signals of no RML2016 class, to check that a model says "unknown" rather than a confident class.
OUTSIDE = ("noise", "CW", "OFDM", "16APSK", "chirp")


def outside(name: str, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """`n` unit-power windows of a signal outside the class set, before noise: white noise, a
    carrier (CW), 802.11a-like OFDM (64-point, 52 QPSK subcarriers, 16-sample cyclic prefix),
    16APSK (4 + 12 points, ring ratio 2.7) at 8 sps through RRC 0.35, or a linear chirp."""
    k = np.arange(length)
    out = np.empty((n, length), np.complex128)
    for i in range(n):
        if name == "noise":
            x = rng.standard_normal(length) + 1j * rng.standard_normal(length)
        elif name == "CW":
            x = np.exp(1j * (2 * np.pi * rng.uniform(-0.1, 0.1) * k + rng.uniform(0, 2 * np.pi)))
        elif name == "OFDM":
            symbols = []
            for _ in range(length // 80 + 2):
                spectrum = np.zeros(64, complex)
                used = np.r_[1:27, 38:64]
                spectrum[used] = np.exp(1j * np.pi / 2 * rng.integers(4, size=52) + 1j * np.pi / 4)
                body = np.fft.ifft(spectrum)
                symbols.append(np.r_[body[-16:], body])
            x = np.concatenate(symbols)[rng.integers(80) :][:length]
        elif name == "16APSK":
            rings = np.r_[np.exp(1j * (np.pi / 4 + np.pi / 2 * np.arange(4))),
                          2.7 * np.exp(1j * (np.pi / 12 + np.pi / 6 * np.arange(12)))]  # fmt: skip
            impulses = np.zeros((length // 8 + 20) * 8, complex)
            impulses[::8] = rng.choice(rings, length // 8 + 20)
            x = np.convolve(impulses, rrc_taps(0.35, 8), mode="same")[80 + rng.integers(8) :][:length]
        else:  # a chirp sweeping a random band
            f0, sweep = rng.uniform(-0.2, 0.2), rng.uniform(-0.3, 0.3) / length
            x = np.exp(2j * np.pi * (f0 * k + 0.5 * sweep * k**2))
        out[i] = x / np.sqrt(np.mean(np.abs(x) ** 2))
    return out


def decide(probs: np.ndarray, classes, k: int = 8, smoothing: str = "geometric") -> list[str]:
    """The decision of gr-amc's decision block (defaults: geometric mean of k, threshold 0.5,
    hysteresis 0.1) after every window of a stationary signal: the labels a user sees."""
    import pmt
    from gnuradio import amc, blocks, gr

    tb = gr.top_block()
    src = blocks.vector_source_f(probs.astype(np.float32).ravel().tolist(), False, len(classes))
    dec = amc.decision(list(classes), smoothing, k=k)
    sink = blocks.vector_sink_f(len(classes))
    tb.connect(src, dec, sink)
    tb.run()
    changes = {
        t.offset: pmt.to_python(t.value)["label"]
        for t in sink.tags()
        if pmt.symbol_to_string(t.key) == "amc_decision"
    }
    labels, current = [], "unknown"
    for i in range(len(probs)):
        current = changes.get(i, current)
        labels.append(current)
    return labels


def load(target: str, length: int | None = None):
    """(predict(vectors) -> probabilities, classes, VectorSpec) of a run directory or a bundle, at
    the model's own window length (`length`, or 128, for a variable-length model that takes it)."""
    from gnuradio.amc.ml import models  # noqa: F401 (registers the custom layers)
    from gnuradio.amc.runtime import bundle, features

    if os.path.isfile(os.path.join(target, "train.json")):
        import keras

        with open(os.path.join(target, "train.json")) as f:
            info = json.load(f)
        model = keras.saving.load_model(os.path.join(target, "model.keras"), safe_mode=True)
        lengths = info.get("lengths") or [info["spec"]["window"]]
        window = length if length in lengths else 128 if 128 in lengths else lengths[0]
        spec = features.VectorSpec(**{**info["spec"], "window": window})
        return (lambda v: model.predict(v, batch_size=512, verbose=0)), info["classes"], spec
    b = bundle.load(bundle.resolve(target))
    n = length if length in b.lengths else 128 if 128 in b.lengths else b.lengths[0]
    return b.runner(n).predict, b.classes, b.spec(n)


def accuracy(model, sps: int, snr_db: float, cfo: float, rolloff, per: int, seed: int, multipath=False,
             classes=CLASSES, band: float = 0.0) -> tuple[dict, list]:  # fmt: skip
    """Fraction of each modulation's windows that `model` (what load returns) calls that modulation
    at per-sample SNR `snr_db`, and (confidence, right) of every window for a reliability diagram."""
    from gnuradio.amc.runtime import features

    predict, names, spec = model
    rng = np.random.default_rng(seed)
    result, scored = {}, []
    for name in classes:
        esn0 = snr_db + 10 * np.log10(sps)
        x = windows(name, per, spec.window, sps, esn0, rng, rolloff, cfo, multipath, band)
        vectors, _ = features.transform(x, spec)
        probs = predict(vectors)
        right = np.asarray(names)[probs.argmax(axis=1)] == model_name(name, names)
        result[name] = float(np.mean(right))
        scored += list(zip(probs.max(axis=1).tolist(), right.tolist(), strict=True))
    return result, scored


def decision_rates(model, sps: int, snr_db: float, cfo: float, rolloff, per: int, seed: int, k: int = 8,
                   classes=CLASSES, band: float = 0.0,
                   smoothing: str = "geometric") -> dict:  # fmt: skip
    """Per class, the share of windows (once k have filled the smoothing) whose decision is the
    class; per signal outside the class set, the share that ends as unknown or noise."""
    from gnuradio.amc.runtime import features

    predict, names, spec = model
    rng = np.random.default_rng(seed)
    rates = {}
    for name in (*classes, *outside_of(names)):
        if name in OUTSIDE:
            x = outside(name, per, spec.window, rng)
            x = x * np.exp(2j * np.pi * rng.uniform(-cfo, cfo) * np.arange(spec.window))
            x = x + np.sqrt(10 ** (-snr_db / 10) / 2) * (
                rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
            )
        else:
            x = windows(
                name, per, spec.window, sps, snr_db + 10 * np.log10(sps), rng, rolloff, cfo, band=band
            )
        vectors, _ = features.transform(x, spec)
        labels = np.array(decide(predict(vectors), names, k, smoothing)[k - 1 :])
        rates[name] = float(
            np.mean(
                np.isin(labels, ["unknown", "noise"])
                if name in OUTSIDE
                else labels == model_name(name, names)
            )
        )
    return rates


def outside_of(names) -> tuple[str, ...]:
    """The signals of OUTSIDE that are none of a model's classes (16APSK is one of RML2018's)."""
    return tuple(n for n in OUTSIDE if n not in names)


def calibration(scored: list, bins: int = 10) -> dict:
    """Reliability: per confidence bin the mean confidence, the share right and the count; and
    the expected calibration error (the count-weighted gap)."""
    conf, right = np.array([c for c, _ in scored]), np.array([r for _, r in scored], float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges) - 1, 0, bins - 1)
    rows = [{"confidence": float(conf[which == b].mean()), "right": float(right[which == b].mean()),
             "count": int((which == b).sum())} for b in range(bins) if (which == b).any()]  # fmt: skip
    ece = sum(r["count"] * abs(r["confidence"] - r["right"]) for r in rows) / max(1, len(conf))
    return {"bins": rows, "ece": float(ece)}


def plot(record: dict, out: str) -> None:
    """accuracy.png (mean accuracy against SNR) and reliability.png (confidence against the share
    right at SNR >= 10 dB) for every model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (acc, rel) = plt.subplots(1, 2, figsize=(11, 4.5))
    for target, r in record.items():
        snrs = sorted(float(k) for k in r if k[0].isdigit() or k[0] == "-")
        acc.plot(snrs, [100 * np.mean(list(r[f"{s:g}"].values())) for s in snrs], marker="o", label=target)
        if "calibration_snr>=10" in r:
            bins = r["calibration_snr>=10"]["bins"]
            rel.plot([b["confidence"] for b in bins], [b["right"] for b in bins], marker="o",
                     label=f"{target} (ECE {r['calibration_snr>=10']['ece']:.3f})")  # fmt: skip
    acc.set(xlabel="per-sample SNR (dB)", ylabel="windows right (%)", ylim=(0, 100),
            title="Independent generator: accuracy")  # fmt: skip
    rel.plot([0, 1], [0, 1], "k:", label="perfect calibration")
    rel.set(xlabel="confidence", ylabel="share right", xlim=(0, 1), ylim=(0, 1),
            title="Reliability at SNR >= 10 dB")  # fmt: skip
    for ax in (acc, rel):
        ax.grid(True)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "accuracy_reliability.png.partial"), dpi=100, format="png")
    os.replace(
        os.path.join(out, "accuracy_reliability.png.partial"), os.path.join(out, "accuracy_reliability.png")
    )
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("targets", nargs="+", metavar="RUN_OR_BUNDLE")
    p.add_argument("--sps", type=int, default=8)
    p.add_argument("--length", type=int, help="window length of a variable-length model (default 128)")
    p.add_argument("--snr", type=float, nargs="+", default=[0, 4, 10, 16, 20], help="per-sample SNRs in dB")
    p.add_argument("--cfo", type=float, default=0.002, help="largest |carrier offset|, cycles/sample")
    p.add_argument("--rolloff", type=float, nargs=2, default=[0.2, 0.5], metavar=("LOW", "HIGH"))
    p.add_argument("--multipath", action="store_true", help="a mild second ray in every window")
    p.add_argument("--receiver-band", type=float, default=0.0, metavar="B",
                   help="signal and noise through a receiver's low-pass at B times the symbol rate "
                        f"(FSK at least {FSK_BAND}), as the blind front end and the scanner do; SNR is "
                        "still per sample before the filter (default 0: none)")  # fmt: skip
    p.add_argument("--classes", nargs="+", choices=CLASSES,
                   help="default: those of this generator's classes the (first) model knows")  # fmt: skip
    p.add_argument("--per", type=int, default=300, help="windows per class and SNR (default 300)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--decisions", action="store_true",
                   help="also the decision block's output at SNR >= 10 dB: right per class, unknown for "
                        f"signals of no class ({', '.join(OUTSIDE)})")  # fmt: skip
    p.add_argument(
        "--smoothing",
        default="geometric",
        choices=("moving_average", "geometric"),
        help="the decision block's smoothing for --decisions (default geometric, the block's)",
    )
    p.add_argument("--out")
    a = p.parse_args(argv)
    checks = (
        ("sps", a.sps >= 2, ">= 2"),
        ("rolloff", 0 < a.rolloff[0] <= a.rolloff[1] <= 1, "LOW HIGH in (0, 1], LOW <= HIGH"),
        ("per", a.per >= 1, ">= 1"),
        ("cfo", abs(a.cfo) < 0.5, "below 0.5 in magnitude"),
        ("receiver-band", a.receiver_band >= 0, ">= 0"),
    )
    for name, ok, need in checks:
        if not ok:
            p.error(f"--{name} must be {need}")
    models = {}
    for target in a.targets:
        try:
            models[target] = load(target, a.length)
        except (ValueError, OSError) as e:
            p.error(f"{target}: {e}")
        known = [c for c in CLASSES if model_name(c, models[target][1]) in models[target][1]]
        a.classes = a.classes or known
        missing = sorted(set(a.classes) - set(known))
        if missing:
            p.error(f"{target}: its classes lack {', '.join(missing)} (asked for {', '.join(a.classes)})")
    head = ["model", "SNR (dB)", *a.classes, "mean"]
    rows, record = [], {}
    for target in a.targets:
        high, scored_high = [], []
        for snr in a.snr:
            seed = a.seed + int(snr)
            acc, scored = accuracy(models[target], a.sps, snr, a.cfo, tuple(a.rolloff), a.per, seed,
                                   a.multipath, a.classes, a.receiver_band)  # fmt: skip
            record.setdefault(target, {})[f"{snr:g}"] = acc
            mean = float(np.mean(list(acc.values())))
            if snr >= 10:
                high.append(mean)
                scored_high += scored
            rows.append(
                [target, f"{snr:g}", *(f"{100 * acc[c]:.0f}%" for c in a.classes), f"{100 * mean:.1f}%"]
            )
        if high:
            rows.append([target, ">= 10", *([""] * len(a.classes)), f"**{100 * np.mean(high):.1f}%**"])
            record[target]["snr>=10"] = float(np.mean(high))
            record[target]["calibration_snr>=10"] = calibration(scored_high)
    lines = [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}", *(f"| {' | '.join(r)} |" for r in rows)]
    if a.decisions:
        names = [*a.classes, *outside_of(models[a.targets[0]][1])]
        lines += ["", f"Decision block (K = 8, threshold 0.5, {a.smoothing}): share right per class, "
                  "share unknown/noise for signals of no class", "",
                  f"| model | SNR (dB) | {' | '.join(names)} |", f"|{'---|' * (len(names) + 2)}"]  # fmt: skip
        for target in a.targets:
            for snr in (s for s in a.snr if s >= 10):
                seed = a.seed + 100 + int(snr)
                rates = decision_rates(models[target], a.sps, snr, a.cfo, tuple(a.rolloff), a.per, seed,
                                       classes=a.classes, band=a.receiver_band,
                                       smoothing=a.smoothing)  # fmt: skip
                record[target][f"decisions_{snr:g}"] = rates
                lines.append(
                    f"| {target} | {snr:g} | "
                    + " | ".join(f"{100 * rates[n]:.0f}%" if n in rates else "–" for n in names)
                    + " |"
                )
    print("\n".join(lines))
    for target in a.targets:
        if "calibration_snr>=10" in record[target]:
            print(
                f"{target}: expected calibration error at SNR >= 10 dB "
                f"{record[target]['calibration_snr>=10']['ece']:.3f}"
            )
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        plot(record, a.out)
        keys = ("sps", "snr", "cfo", "rolloff", "multipath", "receiver_band", "per", "seed")
        settings = {k: getattr(a, k) for k in keys}
        record = json.dumps({"settings": settings, "accuracy": record}, indent=1)
        for name, text in (("table.md", "\n".join(lines) + "\n"), ("accuracy.json", record)):
            path = os.path.join(a.out, name)
            with open(path + ".partial", "w") as f:
                f.write(text)
            os.replace(path + ".partial", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
