#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Would a distance in a model's feature space turn away signals outside its classes?

The Mahalanobis test of Lee et al. 2018 ("A simple unified framework for detecting
out-of-distribution samples"): class means and one shared covariance of the penultimate layer
(the input of the softmax layer), fitted on windows of the training stream (datasets.synthetic,
per-sample SNR >= 0 dB); a window is far when its distance to the mean of the class it is given
lies beyond that class's `--quantile` of the training windows given it rightly. Measured on the
independent generator (cross_generator.py): per signal and SNR, the share of windows that are far,
the area under the ROC curve of far-ness against the class the model gives those signals (per
window and over K = 8 windows averaged), and the decision block's verdict with far windows
flattened to equal probabilities.

    examples/zoo/feature_distance.py [BUNDLE] [--snr 10 16 20] [--per 300] [--out DIR]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cross_generator as cg  # noqa: E402 (beside this file)

K = 8  # windows the decision block smooths over (its default)


def feature_model(path: str):
    """(features and probabilities of vectors, classes, VectorSpec) of a bundle's Keras model."""
    import keras

    from gnuradio.amc.ml import models  # noqa: F401 (registers the custom layers)
    from gnuradio.amc.runtime import bundle

    b = bundle.load(bundle.resolve(path))
    model = keras.saving.load_model(os.path.join(b.path, b.meta["keras"]["file"]), safe_mode=True)
    head = model.get_layer("probabilities")
    both = keras.Model(model.input, [head.input, head.output])
    return (lambda v: both.predict(v, batch_size=1024, verbose=0)), b.classes, b.spec(128)


def fit(run, classes, spec, preset: str, batches: int, seed: int = 999):
    """Class means, shared precision matrix and per-class thresholds from the training stream."""
    from gnuradio.amc.datasets import synthetic
    from gnuradio.amc.runtime import features

    ranges = synthetic.preset(preset)
    feats, labels, snrs, probs = [], [], [], []
    for i in range(batches):
        b = synthetic.batch(
            ranges, 1024, spec.window, seed, i, classes=np.resize(np.arange(len(classes)), 1024)
        )
        f, p = run(features.transform(b.windows, spec)[0])
        feats.append(f), labels.append(b.labels), snrs.append(b.snr_db), probs.append(p)
    f, y, snr, p = map(np.concatenate, (feats, labels, snrs, probs))
    keep = snr >= 0
    means = np.stack([f[keep & (y == c)].mean(axis=0) for c in range(len(classes))])
    centred = f[keep] - means[y[keep]]
    precision = np.linalg.pinv(centred.T @ centred / keep.sum() + 1e-3 * np.eye(f.shape[1]))
    return means, precision, (f, y, p, keep)


def distance(f, p, means, precision):
    d = f - means[p.argmax(axis=1)]
    return np.einsum("nd,de,ne->n", d, precision, d)


def auroc(outside: np.ndarray, inside: np.ndarray) -> float:
    return float(
        np.mean(outside[:, None] > inside[None, :]) + 0.5 * np.mean(outside[:, None] == inside[None, :])
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", nargs="?", default="default")
    ap.add_argument("--snr", type=float, nargs="+", default=[10, 16, 20], help="per-sample SNRs (dB)")
    ap.add_argument("--per", type=int, default=300, help="windows per signal and SNR")
    ap.add_argument("--quantile", type=float, default=0.99, help="of the training windows' distances")
    ap.add_argument("--preset", default="rml2016_random", help="the training stream to fit on")
    ap.add_argument("--fit-batches", type=int, default=60, help="batches of 1024 windows to fit on")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", help="directory for result.json")
    args = ap.parse_args(argv)
    from gnuradio.amc.runtime import features

    run, classes, spec = feature_model(args.bundle)
    means, precision, (f, y, p, keep) = fit(run, classes, spec, args.preset, args.fit_batches)
    d = distance(f, p, means, precision)
    given = p.argmax(axis=1)
    limit = np.array(
        [np.quantile(d[keep & (given == c) & (y == c)], args.quantile) for c in range(len(classes))]
    )
    rng = np.random.default_rng(args.seed)
    result = {}
    for snr in args.snr:
        rows, dist_of = {}, {}
        for name in (*cg.RML2016, *cg.outside_of(classes)):
            if name in cg.OUTSIDE:
                x = cg.outside(name, args.per, spec.window, rng)
                x = x * np.exp(2j * np.pi * rng.uniform(-0.002, 0.002) * np.arange(spec.window))
                noise = rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
                x = x + np.sqrt(10 ** (-snr / 10) / 2) * noise
            else:
                x = cg.windows(name, args.per, spec.window, 8, snr + 10 * np.log10(8), rng, (0.2, 0.5), 0.002)
            fw, pw = run(features.transform(x, spec)[0])
            dw = distance(fw, pw, means, precision)
            far = dw > limit[pw.argmax(axis=1)]
            gated = np.where(far[:, None], 1.0 / len(classes), pw)
            verdicts = []
            for probs in (pw, gated):
                labels = np.array(cg.decide(probs, classes, K)[K - 1 :])
                ok = np.isin(labels, ["unknown", "noise"]) if name in cg.OUTSIDE else labels == name
                verdicts.append(float(np.mean(ok)))
            given_name = classes[np.bincount(pw.argmax(axis=1), minlength=len(classes)).argmax()]
            dist_of[name] = (dw, given_name)
            rows[name] = {"far": float(far.mean()), "given": given_name,
                          "decision_right": verdicts[0], "decision_right_gated": verdicts[1]}  # fmt: skip
        for name in cg.outside_of(classes):
            dw, given_name = dist_of[name]
            if given_name in dist_of:  # against the windows of the class it passes for
                inside = dist_of[given_name][0]
                mean = np.ones(K) / K
                rows[name]["auroc"] = auroc(dw, inside)
                rows[name]["auroc_8"] = auroc(
                    np.convolve(dw, mean, "valid"), np.convolve(inside, mean, "valid")
                )
        result[str(snr)] = rows
        parts = []
        for n, r in rows.items():
            roc = (
                f" (AUROC against {r['given']} {r['auroc']:.2f}, 8 windows {r['auroc_8']:.2f})"
                if "auroc" in r
                else ""
            )
            parts.append(f"{n} far {100 * r['far']:.0f} %{roc}")
        print(f"{snr:g} dB: " + "; ".join(parts))
    if args.out:
        from gnuradio.amc.runtime.atomic import write_json

        os.makedirs(args.out, exist_ok=True)
        write_json(os.path.join(args.out, "result.json"), {"bundle": args.bundle, "quantile": args.quantile,
                                                           "per": args.per, "snr": result})  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
