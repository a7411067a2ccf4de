# SPDX-License-Identifier: GPL-3.0-or-later
"""Wideband scenes made with gr-amc's own signals (amc dataset scene): several digital signals of
chosen classes, symbol rates, powers and centres in white noise, on for all of the scene or in
bursts, with the ground truth as SigMF annotations. For tests, docs and benchmarks of amc.scanner
and `amc scan`; examples/zoo/cross_scene.py makes the independent scenes the floors are measured on.

The signals are datasets.synthetic's (the numpy twin of blocks.modulation_source, held to it by
tests/test_synthetic.py) at an integer number of samples per symbol: the symbol rate is the
sample rate over that. Analog classes are left out: their bandwidth is the audio's, not a choice.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from .._version import __version__
from ..runtime.atomic import AtomicFile
from . import synthetic

DIGITAL = synthetic.LINEAR + synthetic.FSK


@dataclasses.dataclass
class Signal:
    """One signal of a scene, as its SigMF annotation says."""

    label: str
    center_hz: float  # from the scene's centre
    symbol_rate_hz: float
    bandwidth_hz: float  # occupied: (1 + roll-off) x symbol rate for linear classes
    snr_db: float  # in its occupied band
    start: int  # samples
    stop: int


def make(rate: float = 10e6, duration: float = 1.0, signals: int = 4, classes=("QPSK", "BPSK", "QAM16"),
         bandwidth=(25e3, 1e6), snr=(10.0, 25.0), bursts: bool = False, seed: int = 0):  # fmt: skip
    """(samples, truth): `signals` signals side by side in unit-power noise, each of a class drawn
    from `classes`, an occupied bandwidth in `bandwidth` (Hz), an in-band SNR in `snr` (dB); with
    bursts, every second one is on in 50-200 ms bursts."""
    bad = [c for c in classes if c not in DIGITAL]
    checks = (
        ("rate", rate > 0), ("duration", duration > 0 and rate * duration >= 4096),
        ("signals", 1 <= signals <= 32), ("classes", bool(classes) and not bad),
        ("bandwidth", 0 < bandwidth[0] <= bandwidth[1] < rate / 2),
        ("snr", snr[0] <= snr[1]),
    )  # fmt: skip
    for name, ok in checks:
        if not ok:
            why = f" (not digital classes: {', '.join(bad)})" if name == "classes" and bad else ""
            raise ValueError(f"scene: {name} {locals()[name]!r} is out of range{why}")
    rng = np.random.default_rng(seed)
    n = int(rate * duration)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * np.sqrt(0.5)
    # side by side over 90 % of the band, a guard of a fifth of a slot each side
    slot = 0.9 * rate / signals
    truth = []
    for i in range(signals):
        name = str(rng.choice(classes))
        rolloff = float(rng.uniform(0.2, 0.5))
        occupied = float(np.exp(rng.uniform(*np.log(bandwidth))))
        occupied = min(occupied, 0.6 * slot)
        factor = 1 + rolloff if name in synthetic.LINEAR else 2.0  # FSK: about twice its symbol rate
        sps = max(2, int(round(rate * factor / occupied)))
        ranges = synthetic.Ranges(classes=(name, "BPSK" if name != "BPSK" else "QPSK"), sps=(sps,),
                                  rolloff=(rolloff, rolloff))  # fmt: skip
        s = synthetic.batch(ranges, 1, n, seed, i, classes=[0]).windows[0].astype(np.complex128)
        level = float(rng.uniform(*snr))
        s *= np.sqrt(10 ** (level / 10) * (rate * factor / sps) / rate)  # in-band noise: occupied / rate
        start, stop = 0, n
        if bursts and i % 2:
            on = np.zeros(n)
            t = int(rng.uniform(0, 0.1) * rate)
            first = None
            while t < n:
                length = int(rng.uniform(0.05, 0.2) * rate)
                on[t : t + length] = 1
                first = t if first is None else first
                stop = min(n, t + length)
                t += length + int(rng.uniform(0.05, 0.2) * rate)
            start = first or 0
            s *= on
        center = -0.45 * rate + (i + 0.5) * slot
        x += s * np.exp(2j * np.pi * center / rate * np.arange(n))
        truth.append(Signal(name, center, rate / sps, rate * factor / sps, level, start, stop))
    return x.astype(np.complex64), truth


def write_sigmf(base: str, x: np.ndarray, rate: float, truth: list[Signal], center_freq: float = 0.0,
                datatype: str = "cf32_le") -> None:  # fmt: skip
    """BASE.sigmf-data and BASE.sigmf-meta (atomically), one annotation per signal."""
    if datatype == "ci16_le":
        peak = float(np.max(np.abs(np.concatenate([x.real, x.imag])))) or 1.0
        data = np.round(np.stack([x.real, x.imag], axis=1) / peak * 32000).astype("<i2")
    elif datatype == "cf32_le":
        data = x.astype("<c8")
    else:
        raise ValueError(f"datatype {datatype!r} must be cf32_le or ci16_le")
    meta = {
        "global": {"core:datatype": datatype, "core:sample_rate": rate, "core:version": "1.0.0",
                   "core:description": "wideband scene of amc dataset scene (ground truth)",
                   "core:generator": f"gr-amc {__version__}",
                   "core:extensions": [{"name": "scene", "version": "1.0.0", "optional": True}]},
        "captures": [{"core:sample_start": 0, "core:frequency": center_freq}],
        "annotations": [
            {"core:sample_start": t.start, "core:sample_count": t.stop - t.start,
             "core:freq_lower_edge": center_freq + t.center_hz - t.bandwidth_hz / 2,
             "core:freq_upper_edge": center_freq + t.center_hz + t.bandwidth_hz / 2,
             "core:label": t.label, "core:generator": "amc dataset scene",
             "scene:symbol_rate_hz": t.symbol_rate_hz, "scene:snr_db": round(t.snr_db, 2)}
            for t in sorted(truth, key=lambda t: (t.start, t.center_hz))
        ],
    }  # fmt: skip
    with AtomicFile(base + ".sigmf-data") as tmp:
        data.tofile(tmp)
    with AtomicFile(base + ".sigmf-meta") as tmp, open(tmp, "w") as f:
        json.dump(meta, f, indent=1)
