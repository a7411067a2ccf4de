#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test models on signals from a generator other than the one they were trained on.

gr-amc's datasets come from GNU Radio flowgraphs (python/amc/dataset.py). This file is a second,
independent generator, written from the textbook definitions with numpy only and sharing no code
with gr-amc: random symbols of the six linear modulations of RML2016.10a, root-raised-cosine pulses,
a random symbol timing, carrier phase and frequency offset, and white noise at a given Es/N0. A
model that only learned gr-amc's generator (its filters, its channel) falls over here; this is the
check that the training augmentation (--augment-phase/--augment-freq) earns its place.

    examples/zoo/cross_generator.py RUN_OR_BUNDLE... [--cfo 0 0.001 0.003] [--out DIR]

Runs (amc train output directories) are run as Keras models, bundles (a name from `amc models` or
a path) on LiteRT. Prints a table per model; --out writes table.md and accuracy.json there.
"""

import argparse
import json
import os
import sys

import numpy as np

CLASSES = ("BPSK", "QPSK", "8PSK", "PAM4", "QAM16", "QAM64")


def constellation(name: str) -> np.ndarray:
    """Unit average energy points of a modulation in CLASSES."""
    square = lambda m: np.array([a + 1j * b for a in range(1 - m, m, 2) for b in range(1 - m, m, 2)])  # noqa: E731
    points = {
        "BPSK": np.array([-1.0, 1.0]),
        "QPSK": np.exp(1j * np.pi * (0.25 + 0.5 * np.arange(4))),
        "8PSK": np.exp(1j * np.pi / 4 * np.arange(8)),
        "PAM4": np.array([-3.0, -1.0, 1.0, 3.0]),
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


def windows(name: str, n: int, length: int, sps: int, esn0_db: float, rng: np.random.Generator,
            rolloff: float = 0.35, cfo: float = 0.0) -> np.ndarray:  # fmt: skip
    """`n` complex windows of `length` samples; cfo: the largest |frequency offset| in cycles/sample."""
    points, taps = constellation(name), rrc_taps(rolloff, sps)
    guard = len(taps) // sps + 1  # symbols for the filter to settle on each side
    out = np.empty((n, length), np.complex128)
    for k in range(n):
        symbols = rng.choice(points, length // sps + 2 * guard + 1)
        pulses = np.zeros(len(symbols) * sps, np.complex128)
        pulses[::sps] = symbols
        x = np.convolve(pulses, taps, mode="same")
        start = guard * sps + rng.integers(sps)  # random symbol timing
        x = x[start : start + length]
        f, phase = rng.uniform(-cfo, cfo), rng.uniform(0, 2 * np.pi)
        x = x * np.exp(1j * (2 * np.pi * f * np.arange(length) + phase)) / np.sqrt(np.mean(np.abs(x) ** 2))
        noise_power = sps * 10 ** (-esn0_db / 10)  # Es = sps (unit power per sample), N0 per sample
        noise = rng.standard_normal(length) + 1j * rng.standard_normal(length)
        out[k] = x + np.sqrt(noise_power / 2) * noise
    return out


def load(target: str):
    """(predict(vectors) -> probabilities, classes, VectorSpec) of a run directory or a bundle, at
    the model's own window length (128 for a variable-length model that takes it)."""
    from gnuradio.amc.ml import models  # noqa: F401 (registers the custom layers)
    from gnuradio.amc.runtime import bundle, features

    if os.path.isfile(os.path.join(target, "train.json")):
        import keras

        with open(os.path.join(target, "train.json")) as f:
            info = json.load(f)
        model = keras.saving.load_model(os.path.join(target, "model.keras"), safe_mode=True)
        lengths = info.get("lengths") or [info["spec"]["window"]]
        spec = features.VectorSpec(**{**info["spec"], "window": 128 if 128 in lengths else lengths[0]})
        return (lambda v: model.predict(v, batch_size=512, verbose=0)), info["classes"], spec
    b = bundle.load(bundle.resolve(target))
    n = 128 if 128 in b.lengths else b.lengths[0]
    return b.runner(n).predict, b.classes, b.spec(n)


def accuracy(model, sps: int, esn0_db: float, cfo: float, rolloff: float, per: int, seed: int) -> dict:
    """Fraction of each modulation's windows that `model` (what load returns) calls that modulation."""
    from gnuradio.amc.runtime import features

    predict, classes, spec = model
    rng = np.random.default_rng(seed)
    result = {}
    for name in CLASSES:
        x = windows(name, per, spec.window, sps, esn0_db, rng, rolloff, cfo)
        vectors, _ = features.transform(x, spec)
        guess = np.asarray(classes)[predict(vectors).argmax(axis=1)]
        result[name] = float(np.mean(guess == name))
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("targets", nargs="+", metavar="RUN_OR_BUNDLE")
    p.add_argument("--sps", type=int, default=8)
    p.add_argument("--esn0", type=float, default=20.0, help="Es/N0 in dB")
    p.add_argument("--cfo", type=float, nargs="+", default=[0.0, 0.001, 0.003], help="cycles/sample")
    p.add_argument("--rolloff", type=float, default=0.35)
    p.add_argument("--per", type=int, default=500, help="windows per modulation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out")
    a = p.parse_args(argv)
    checks = (
        ("sps", a.sps >= 2, ">= 2"),
        ("rolloff", 0 <= a.rolloff <= 1, "in [0, 1]"),
        ("per", a.per >= 1, ">= 1"),
        ("cfo", all(abs(f) < 0.5 for f in a.cfo), "below 0.5 in magnitude"),
    )
    for name, ok, need in checks:
        if not ok:
            p.error(f"--{name} must be {need}")
    models = {}
    for target in a.targets:
        try:
            models[target] = load(target)
        except (ValueError, OSError) as e:
            p.error(f"{target}: {e}")
        missing = sorted(set(CLASSES) - set(models[target][1]))
        if missing:
            p.error(
                f"{target}: its classes lack {', '.join(missing)} (this generator makes {', '.join(CLASSES)})"
            )
    head = ["model", "cfo", *CLASSES, "mean"]
    rows, record = [], {}
    for target in a.targets:
        for cfo in a.cfo:
            acc = accuracy(models[target], a.sps, a.esn0, cfo, a.rolloff, a.per, a.seed)
            record.setdefault(target, {})[str(cfo)] = acc
            mean = np.mean(list(acc.values()))
            rows.append(
                [target, f"{cfo:g}", *(f"{100 * acc[c]:.0f}%" for c in CLASSES), f"{100 * mean:.1f}%"]
            )
    lines = [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}", *(f"| {' | '.join(r)} |" for r in rows)]
    print("\n".join(lines))
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        settings = {k: getattr(a, k) for k in ("sps", "esn0", "rolloff", "per", "seed")}
        record = json.dumps({"settings": settings, "accuracy": record}, indent=1)
        for name, text in (("table.md", "\n".join(lines) + "\n"), ("accuracy.json", record)):
            path = os.path.join(a.out, name)
            with open(path + ".partial", "w") as f:
                f.write(text)
            os.replace(path + ".partial", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
