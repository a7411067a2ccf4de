# SPDX-License-Identifier: GPL-3.0-or-later
"""Randomised training windows, made on the fly: what real transmitters and channels vary.

A vectorised numpy twin of blocks.modulation_source (tests/test_synthetic.py holds the
twin to the GNU Radio sources at their nominal settings), drawing per window what a
fixed generator keeps constant: pulse shape and roll-off, symbol rate (sample-rate
offset) and timing, FSK modulation index and BT, audio content and modulation depth,
then the channel and the receiver: multipath and fading, carrier phase, frequency
offset and phase noise, IQ gain and phase imbalance, DC offset, noise from below
-10 dB per-sample SNR to none, and a receiver's channel filter over signal and noise. No two
batches repeat: every window is drawn afresh from a seeded generator (a batch number and the
seed give the same batch again).

The ranges are a YAML preset (datasets/presets/*.yaml, `amc train --generate NAME`).
SNR here is per sample: mean signal power over noise power per sample.
numpy only: the training stream (ml.synthetic_data) turns these windows into vectors
with runtime.features, as for every dataset.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np
import yaml

from ..runtime import waveforms

PRESETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presets")
LINEAR = tuple(waveforms.CONSTELLATIONS)  # OQPSK too: its Q lags I by half a symbol
FSK = waveforms.FSK_CLASSES
ANALOG = waveforms.ANALOG_CLASSES
SUPPORTED = LINEAR + FSK + ANALOG
assert set(SUPPORTED) == set(waveforms.ALL_CLASSES), "every RadioML class has a twin here"
PULSE_SPAN = 6  # symbols of the pulse on each side of its centre
WBFM_SENSITIVITY = 2 * np.pi * 75e3 / 220.5e3  # rad/sample per unit audio, as modulation_source
OUTLIER = -1  # the label of a window of no class
# Signals outside a preset's classes (those of them that are its classes are left out), the
# default of Ranges.outlier_kinds: for the RML2016 classes, constellations of RML2018.01a that 16
# symbols tell apart from theirs. A preset may name others: any linear constellation of waveforms.
OUTLIER_KINDS = ("noise", "tone", "tones", "chirp", "ofdm", "OOK", "8ASK", "16PSK", "32APSK", "64APSK")
OUTLIER_SIGNALS = ("noise", "tone", "tones", "chirp", "ofdm")  # the kinds that are no constellation


def _pair(name: str, value) -> tuple[float, float]:
    lo, hi = (value, value) if np.isscalar(value) else value
    if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
        raise ValueError(f"{name} {value!r} must be a number or a range [low, high] with low <= high")
    return float(lo), float(hi)


@dataclasses.dataclass(frozen=True)
class Ranges:
    """What is drawn per window, uniformly over each [low, high]; shares in [0, 1]."""

    classes: tuple[str, ...] = waveforms.RML2016_CLASSES
    # The defaults are modulation_source's nominal signal, with no channel and no noise: a
    # preset (presets/*.yaml) says what varies and how much.
    sps: tuple[int, ...] = (8,)  # nominal samples per symbol, one drawn per window
    rate_offset: tuple[float, float] = (0.0, 0.0)  # relative symbol-rate error
    snr_db: tuple[float, float] = (30.0, 30.0)  # per-sample SNR
    noise_free: float = 1.0  # share of windows without noise
    rolloff: tuple[float, float] = (0.35, 0.35)  # root-raised-cosine
    rect_pulse: float = 0.0  # share of linear windows with rectangular pulses instead
    cpfsk_index: tuple[float, float] = (0.5, 0.5)  # CPFSK modulation index h
    gfsk_index: tuple[float, float] = (0.8 / np.pi, 0.8 / np.pi)  # GFSK h
    gfsk_bt: tuple[float, float] = (0.35, 0.35)
    gmsk_bt: tuple[float, float] = (0.3, 0.3)  # GMSK: h 0.5
    am_depth: tuple[float, float] = (0.5, 0.5)  # AM modulation depth (classes with a carrier)
    fm_deviation: tuple[float, float] = (1.0, 1.0)  # WBFM deviation, times modulation_source's
    audio_rate: tuple[float, float] = (1.0, 1.0)  # audio played faster or slower (content)
    cfo: tuple[float, float] = (0.0, 0.0)  # carrier offset, cycles/sample
    phase_noise: tuple[float, float] = (0.0, 0.0)  # random-walk step std, rad/sample
    iq_gain_db: tuple[float, float] = (0.0, 0.0)
    iq_phase_deg: tuple[float, float] = (0.0, 0.0)
    dc: tuple[float, float] = (0.0, 0.0)  # DC offset, relative to the signal's rms
    multipath: float = 0.0  # share of windows through a multipath channel
    multipath_delay: int = 3  # longest echo, samples
    multipath_gain: tuple[float, float] = (0.05, 0.4)  # echo amplitudes
    fading: float = 0.0  # share of windows with a time-varying (two-ray Doppler) gain
    doppler: tuple[float, float] = (1e-5, 2e-3)  # cycles/sample
    # Share of digital and outlier windows, signal and noise together, through a receiver's
    # channel filter cutting at receiver_cutoff times the symbol rate: the blind front end and
    # the scanner's channeliser hand the model band-limited noise, which white noise alone never
    # taught it (QPSK at Es/N0 10 dB went from 77 % right to 8 % behind the normaliser). FSK
    # too: amc.normalizer passes it a wider band, but only where the estimator saw a constant
    # envelope, which noise hides below about 12 dB.
    receiver_filter: float = 0.0
    receiver_cutoff: tuple[float, float] = (0.6, 1.6)
    # Share of windows that are none of the classes (OUTLIERS: noise, tones, chirps, OFDM,
    # other constellations), labelled OUTLIER: trained towards equal probabilities for every
    # class (outlier exposure), so that the decision block's threshold says "unknown".
    outliers: float = 0.0
    outlier_kinds: tuple[str, ...] = OUTLIER_KINDS  # drawn uniformly, less those that are classes
    # Relative share of each named class among the class windows (unnamed: 1): more gradient on
    # the pairs a model confuses (QAM16/QAM64). Training undoes the prior it teaches
    # (training.correct_prior), so the model's probabilities stay those of equal classes.
    class_weights: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        unknown = [c for c in self.classes if c not in SUPPORTED]
        if unknown:
            raise ValueError(
                f"classes: {', '.join(unknown)} cannot be synthesised (can: {', '.join(SUPPORTED)})"
            )
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes {self.classes} must name at least two distinct classes")
        if not self.sps or any(int(s) != s or s < 2 for s in self.sps):
            raise ValueError(f"sps {self.sps} must be integers >= 2")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type.startswith("tuple[float"):
                object.__setattr__(self, f.name, _pair(f.name, value))
            elif f.type == "float" and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} {value} must be a share in [0, 1]")
        if not 0 < self.rolloff[0] <= self.rolloff[1] <= 1:
            raise ValueError(f"rolloff {self.rolloff} must lie in (0, 1]")
        if self.receiver_cutoff[0] <= 0:
            raise ValueError(
                f"receiver_cutoff {self.receiver_cutoff} must be above 0 (times the symbol rate)"
            )
        if isinstance(self.outlier_kinds, str):  # YAML "outlier_kinds: noise" would iterate letters
            raise ValueError(
                f"outlier_kinds {self.outlier_kinds!r} must be a list of kinds, e.g. [noise, ofdm]"
            )
        odd = [k for k in self.outlier_kinds if k not in OUTLIER_SIGNALS + LINEAR]
        if odd or not set(self.outlier_kinds) - set(self.classes):
            raise ValueError(
                f"outlier_kinds {self.outlier_kinds} must name at least one kind that is not a class, "
                f"each of {', '.join(OUTLIER_SIGNALS + LINEAR)}"
            )
        if self.multipath_delay < 1:
            raise ValueError(f"multipath_delay {self.multipath_delay} must be >= 1")
        weights = self.class_weights
        if not isinstance(weights, dict) or any(
            c not in self.classes or not isinstance(w, (int, float)) or not w > 0 for c, w in weights.items()
        ):
            raise ValueError(f"class_weights {weights} must map classes of {self.classes} to weights above 0")

    def class_shares(self) -> np.ndarray:
        """Each class's share of the class windows of a batch (class_weights, normalised)."""
        w = np.array([float(self.class_weights.get(c, 1.0)) for c in self.classes])
        return w / w.sum()

    @classmethod
    def from_yaml(cls, path: str) -> Ranges:
        with open(path) as f:
            raw = yaml.safe_load(f)
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: not a mapping of ranges")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - names - {"description"})
        if unknown:
            raise ValueError(f"{path}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(names))})")
        fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if k in names}
        return cls(**fields)


def presets() -> list[str]:
    return sorted(f[: -len(".yaml")] for f in os.listdir(PRESETS_DIR) if f.endswith(".yaml"))


def preset(name: str) -> Ranges:
    """A shipped preset by name, or a YAML file by path."""
    if os.path.isfile(name):
        return Ranges.from_yaml(name)
    if name not in presets():
        raise ValueError(f"generate: {name!r} is neither a preset ({', '.join(presets())}) nor a YAML file")
    return Ranges.from_yaml(os.path.join(PRESETS_DIR, name + ".yaml"))


# --------------------------------------------------------------------------- pulses


def rrc(t: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Root-raised-cosine pulse at times t (in symbols), roll-off beta (broadcast), peak
    normalised so that unit-power symbols give about unit-power samples after scaling."""
    t = np.asarray(t, np.float64)
    b = np.broadcast_to(beta, t.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = np.sin(np.pi * t * (1 - b)) + 4 * b * t * np.cos(np.pi * t * (1 + b))
        den = np.pi * t * (1 - (4 * b * t) ** 2)
        h = num / den
    h = np.where(np.abs(t) < 1e-9, 1 - b + 4 * b / np.pi, h)
    edge = np.abs(np.abs(t) - 1 / (4 * b)) < 1e-6
    at_edge = (
        b
        / np.sqrt(2)
        * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * b)) + (1 - 2 / np.pi) * np.cos(np.pi / (4 * b)))
    )
    return np.where(edge, at_edge, h)


@functools.lru_cache(maxsize=64)
def _gaussian_phase_table(bt: float, steps: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """q(t) of GFSK: the integral of a unit rectangle (one symbol) through a Gaussian of
    bandwidth-time product bt, q(-inf) = 0, q(+inf) = 1, tabulated in symbols."""
    t = np.arange(-4 * steps, 5 * steps + 1) / steps
    sigma = np.sqrt(np.log(2)) / (2 * np.pi * bt)
    g = np.exp(-(t**2) / (2 * sigma**2))
    rect = ((t >= 0) & (t < 1)).astype(float)
    freq = np.convolve(rect, g / g.sum(), mode="same")
    q = np.cumsum(freq)
    return t, q / q[-1]


# --------------------------------------------------------------------------- the classes


def _times(rng, n: int, length: int, sps: np.ndarray, rate_offset) -> tuple[np.ndarray, int]:
    """Sample times in symbols (n, length): random fractional start, symbol rate off by up to
    rate_offset; and how many symbols to draw so that every pulse tail is covered."""
    rate = 1.0 / (sps * (1 + rng.uniform(*rate_offset, n)))  # symbols per sample
    start = rng.uniform(0, 1, n) + PULSE_SPAN
    t = start[:, None] + rate[:, None] * np.arange(length)[None, :]
    n_symbols = int(np.ceil(t.max())) + PULSE_SPAN + 2
    return t, n_symbols


def linear(rng, name: str, n: int, length: int, sps: np.ndarray, r: Ranges) -> np.ndarray:
    """Windows of a linear modulation: sum_k s_k p(t - k), p a root-raised-cosine of random
    roll-off (or, for a few, a rectangle), at random timing and symbol rate; OQPSK's
    quadrature rail half a symbol late."""
    points = waveforms.CONSTELLATIONS[name]
    t, n_sym = _times(rng, n, length, sps, r.rate_offset)
    symbols = points[rng.integers(len(points), size=(n, n_sym))]
    beta = rng.uniform(*r.rolloff, n)
    rect = rng.uniform(size=n) < r.rect_pulse
    if name == "OQPSK":
        return _shaped(symbols.real, t, beta, rect) + 1j * _shaped(symbols.imag, t - 0.5, beta, rect)
    return _shaped(symbols, t, beta, rect)


def _shaped(symbols: np.ndarray, t: np.ndarray, beta: np.ndarray, rect: np.ndarray) -> np.ndarray:
    """sum_k symbols[:, k] p(t - k) at the times t (n, length), in symbols."""
    n_sym = symbols.shape[1]
    out = np.zeros(t.shape, np.complex128)
    base = np.floor(t).astype(int)
    for d in range(-PULSE_SPAN, PULSE_SPAN + 1):  # the symbols near each sample
        k = np.clip(base + d, 0, n_sym - 1)
        dt = t - k
        p = np.where(rect[:, None], ((dt >= 0) & (dt < 1)).astype(float), rrc(dt, beta[:, None]))
        out += np.take_along_axis(symbols, k, axis=1) * p
    return out


def fsk(rng, name: str, n: int, length: int, sps: np.ndarray, r: Ranges) -> np.ndarray:
    """Continuous-phase FSK: phase = pi h sum_k a_k q(t - k), q the rectangle's (CPFSK) or a
    Gaussian-filtered rectangle's (GFSK, GMSK: random BT) phase pulse, random h (GMSK: 0.5)."""
    t, n_sym = _times(rng, n, length, sps, r.rate_offset)
    bits = rng.choice([-1.0, 1.0], size=(n, n_sym))
    if name == "CPFSK":
        h = rng.uniform(*r.cpfsk_index, n)
        tables = [(np.array([0.0, 1.0]), np.array([0.0, 1.0]))] * n
        reach = (1, 0)
    else:
        gmsk = name == "GMSK"
        h = np.full(n, 0.5) if gmsk else rng.uniform(*r.gfsk_index, n)
        bts = np.round(rng.uniform(*(r.gmsk_bt if gmsk else r.gfsk_bt), n), 2)  # a few tables, cached
        tables = [_gaussian_phase_table(float(b)) for b in bts]
        reach = (4, 3)
    base = np.floor(t).astype(int)
    phase = np.zeros((n, length))
    # symbols before the reach of the pulse have added their whole pi h a_k already
    k_first = np.clip(base - reach[1] - 1, 0, n_sym)
    done = np.cumsum(np.concatenate([np.zeros((n, 1)), bits], axis=1), axis=1)
    phase += np.take_along_axis(done, k_first, axis=1)
    for d in range(-reach[1], reach[0] + 1):
        k = base - d
        valid = (k >= 0) & (k < n_sym) & (k >= k_first)
        kk = np.clip(k, 0, n_sym - 1)
        dt = t - kk
        q = np.stack([np.interp(dt[i], *tables[i]) for i in range(n)])
        phase += np.where(valid, np.take_along_axis(bits, kk, axis=1) * q, 0.0)
    return np.exp(1j * (np.pi * h[:, None] * phase + rng.uniform(0, 2 * np.pi, (n, 1))))


@functools.lru_cache(maxsize=4)
def _audio_clip(seed: int) -> np.ndarray:
    return waveforms.synth_audio(waveforms.ANALOG_RATE, 8.0, seed).astype(np.float64)


def audio(rng, n: int, length: int, r: Ranges) -> np.ndarray:
    """Music-like audio windows (n, length) at the analog classes' rate, peak at most 1 over
    the clip as modulation_source plays it (a window is as loud as its passage): random
    passages of synthesised clips played at a random speed, a fifth with a tone added."""
    clip = _audio_clip(int(rng.integers(4)))
    speed = rng.uniform(*r.audio_rate, n)
    start = rng.uniform(0, len(clip) - 4 * length, n)
    pos = start[:, None] + speed[:, None] * np.arange(length)[None, :]
    out = np.interp(pos, np.arange(len(clip)), clip)
    tone = (rng.uniform(size=n) < 0.2)[:, None]
    f = rng.uniform(200, 5000, (n, 1)) / waveforms.ANALOG_RATE
    wave = np.sin(2 * np.pi * f * np.arange(length) + rng.uniform(0, 6.3, (n, 1)))
    return np.where(tone, 0.7 * out + 0.3 * wave, out)


def analog(rng, name: str, n: int, length: int, r: Ranges) -> np.ndarray:
    """FM (WBFM), AM with a carrier (AM-DSB, -DSB-WC, -SSB-WC) or without (-DSB-SC, AM-SSB,
    -SSB-SC), as modulation_source makes them, with random audio, depth and deviation."""
    a = audio(rng, n, length + 64, r)
    if name in ("WBFM", "FM"):
        dev = WBFM_SENSITIVITY * rng.uniform(*r.fm_deviation, (n, 1))
        return np.exp(1j * (np.cumsum(dev * a, axis=1)[:, 64:] + rng.uniform(0, 2 * np.pi, (n, 1))))
    if name.startswith("AM-SSB"):
        # the analytic signal of the audio (upper or lower sideband)
        spectrum = np.fft.fft(a, axis=1)
        m = a.shape[1]
        spectrum[:, m // 2 + 1 :] = 0
        spectrum[:, 1 : m // 2] *= 2
        x = np.fft.ifft(spectrum, axis=1)[:, 32 : 32 + length]  # away from the FFT's wrap-around
        lower = rng.uniform(size=n) < 0.5
        message = np.where(lower[:, None], np.conj(x), x)
    else:
        message = a[:, 64:]
    if name in ("AM-DSB", "AM-DSB-WC", "AM-SSB-WC"):
        return 1.0 + rng.uniform(*r.am_depth, (n, 1)) * message
    return message


# --------------------------------------------------------------------------- channel, receiver


def channel(rng, x: np.ndarray, r: Ranges) -> np.ndarray:
    """Multipath echoes, a two-ray Doppler fade, carrier phase, offset and phase noise, IQ
    imbalance and DC offset, each drawn per window; unit mean power out."""
    n, length = x.shape
    t = np.arange(length)[None, :]
    echo = rng.uniform(size=n) < r.multipath
    y = x.copy()
    for delay in range(1, r.multipath_delay + 1):
        gain = rng.uniform(*r.multipath_gain, (n, 1)) * np.exp(2j * np.pi * rng.uniform(size=(n, 1)))
        gain *= (rng.uniform(size=(n, 1)) < 0.6) * echo[:, None]
        y[:, delay:] += gain * x[:, :-delay]
    fade = rng.uniform(size=n) < r.fading
    fd = rng.uniform(*r.doppler, (n, 1)) * rng.choice([-1, 1], (n, 1))
    ray = rng.uniform(0.2, 1.0, (n, 1)) * np.exp(1j * (2 * np.pi * fd * t + rng.uniform(0, 6.3, (n, 1))))
    y *= np.where(fade[:, None], 1.0 + ray, 1.0)
    y /= np.sqrt(np.maximum(1e-12, np.mean(np.abs(y) ** 2, axis=1, keepdims=True)))
    f = rng.uniform(*r.cfo, (n, 1))
    walk = np.cumsum(rng.standard_normal((n, length)) * rng.uniform(*r.phase_noise, (n, 1)), axis=1)
    y *= np.exp(1j * (2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, (n, 1)) + walk))
    g = 10 ** (rng.uniform(*r.iq_gain_db, (n, 1)) / 20)
    psi = np.deg2rad(rng.uniform(*r.iq_phase_deg, (n, 1)))
    y = y.real + 1j * g * (y.imag * np.cos(psi) + y.real * np.sin(psi))
    y += rng.uniform(*r.dc, (n, 1)) * np.exp(2j * np.pi * rng.uniform(size=(n, 1)))
    return y / np.sqrt(np.mean(np.abs(y) ** 2, axis=1, keepdims=True))


RECEIVER_PAD = 64  # samples either side of a filtered window: the filter's impulse response is shorter


def receiver(rng, x: np.ndarray, sps: np.ndarray, r: Ranges) -> np.ndarray:
    """Each window through a low-pass at a random cutoff (times its symbol rate 1/sps) with a
    raised-cosine transition a quarter of the symbol rate wide, applied in the frequency
    domain over the window and its padding (which the caller then drops)."""
    n, length = x.shape
    f = np.abs(np.fft.fftfreq(length))[None, :] * sps[:, None]  # in symbol rates
    cut = rng.uniform(*r.receiver_cutoff, (n, 1))
    edge = np.clip((f - cut) / 0.25 + 0.5, 0.0, 1.0)
    return np.fft.ifft(np.fft.fft(x, axis=1) * 0.5 * (1 + np.cos(np.pi * edge)), axis=1)


def clean(rng, name: str, n: int, length: int, sps: np.ndarray, r: Ranges) -> np.ndarray:
    """Unit-power windows of one class before the channel."""
    if name in LINEAR:
        x = linear(rng, name, n, length, sps, r)
    elif name in FSK:
        x = fsk(rng, name, n, length, sps, r)
    else:
        x = analog(rng, name, n, length, r)
    return x / np.sqrt(np.maximum(1e-12, np.mean(np.abs(x) ** 2, axis=1, keepdims=True)))


def outlier(rng, kind: str, n: int, length: int, sps: np.ndarray, r: Ranges) -> np.ndarray:
    """Windows of a signal of no class (unit power before the channel)."""
    t = np.arange(length)[None, :]
    if kind == "noise":
        return rng.standard_normal((n, length)) + 1j * rng.standard_normal((n, length))
    if kind in ("tone", "tones"):
        k = 1 if kind == "tone" else int(rng.integers(2, 5))
        f = rng.uniform(-0.25, 0.25, (n, 1, k))
        a = rng.uniform(0.3, 1.0, (n, 1, k))
        return (a * np.exp(1j * (2 * np.pi * f * t[..., None] + rng.uniform(0, 6.3, (n, 1, k))))).sum(axis=2)
    if kind == "chirp":
        f0 = rng.uniform(-0.2, 0.2, (n, 1))
        rate = rng.uniform(-0.4, 0.4, (n, 1)) / length  # cycles/sample per sample
        return np.exp(2j * np.pi * (f0 * t + 0.5 * rate * t**2))
    if kind == "ofdm":
        size = int(rng.choice([16, 32, 64]))
        cp = size // 4
        used = int(size * rng.uniform(0.5, 0.9))
        n_sym = -(-length // (size + cp)) + 1
        points = waveforms.CONSTELLATIONS[str(rng.choice(["QPSK", "QAM16"]))]
        grid = np.zeros((n, n_sym, size), np.complex128)
        carriers = (np.arange(used) - used // 2) % size
        grid[:, :, carriers] = points[rng.integers(len(points), size=(n, n_sym, used))]
        body = np.fft.ifft(grid, axis=2)
        x = np.concatenate([body[:, :, -cp:], body], axis=2).reshape(n, -1)
        start = rng.integers(size + cp)
        return x[:, start : start + length]
    return linear(rng, kind, n, length, sps, r)


@dataclasses.dataclass
class Batch:
    windows: np.ndarray  # (n, length) complex64
    labels: np.ndarray  # (n,) class index into Ranges.classes, OUTLIER for none
    snr_db: np.ndarray  # (n,) per-sample SNR (inf: no noise)
    sps: np.ndarray  # (n,) nominal samples per symbol


def batch(r: Ranges, n: int, length: int, seed: int, index: int, classes: list[int] | None = None) -> Batch:
    """Batch number `index` of the stream seeded `seed`: n windows, classes drawn uniformly
    (or the class indices given), each with its own draw of every range."""
    rng = np.random.default_rng([seed, index])
    if classes is not None:
        labels = np.asarray(classes)
    elif r.class_weights:  # a separate branch: the streams of presets without weights stay as they were
        labels = rng.choice(len(r.classes), size=n, p=r.class_shares())
    else:
        labels = rng.integers(len(r.classes), size=n)
    if classes is None and r.outliers:
        labels[rng.uniform(size=n) < r.outliers] = OUTLIER
    sps = np.asarray(r.sps)[rng.integers(len(r.sps), size=len(labels))]
    snr = rng.uniform(*r.snr_db, len(labels))
    snr[rng.uniform(size=len(labels)) < r.noise_free] = np.inf
    filtered = np.zeros(len(labels), bool)
    if r.receiver_filter:  # no draw without it: the streams of presets without a receiver stay as they were
        analog = np.isin(labels, [r.classes.index(c) for c in ANALOG if c in r.classes])
        filtered = (rng.uniform(size=len(labels)) < r.receiver_filter) & ~analog
    final, length = length, length + 2 * RECEIVER_PAD * bool(filtered.any())
    out = np.empty((len(labels), length), np.complex128)
    for c in np.unique(labels[labels >= 0]):
        rows = np.flatnonzero(labels == c)
        out[rows] = clean(rng, r.classes[c], len(rows), length, sps[rows].astype(float), r)
    odd = np.flatnonzero(labels == OUTLIER)
    kinds = rng.choice([k for k in r.outlier_kinds if k not in r.classes], len(odd))
    for kind in np.unique(kinds):
        rows = odd[kinds == kind]
        x = outlier(rng, str(kind), len(rows), length, sps[rows].astype(float), r)
        out[rows] = x / np.sqrt(np.maximum(1e-12, np.mean(np.abs(x) ** 2, axis=1, keepdims=True)))
    out = channel(rng, out, r)
    noise = (rng.standard_normal(out.shape) + 1j * rng.standard_normal(out.shape)) / np.sqrt(2)
    out += np.sqrt(10 ** (-snr / 10))[:, None] * noise
    if filtered.any():
        out[filtered] = receiver(rng, out[filtered], sps[filtered].astype(float), r)
        out = out[:, RECEIVER_PAD : RECEIVER_PAD + final]
    return Batch(out.astype(np.complex64), labels.astype(np.int64), snr, sps)
