# SPDX-License-Identifier: GPL-3.0-or-later
"""The model zoo of the papers in ../shared/papers, as Keras 3 models.

Every model takes vectors exactly as amc.vectorizer makes them and says which
(MODELS[name].spec). Custom layers are registered Keras classes (no Lambda), so a
saved model loads with safe_mode=True.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
from keras import layers, ops

from ..runtime.features import VectorSpec
from . import names

PACKAGE = "gr_amc"


@keras.saving.register_keras_serializable(package=PACKAGE)
class PhaseRotation(layers.Layer):
    """y * exp(-j phi) for (batch, L, 2) I/Q and a (batch, 1) phase (PET-CGDNN, eq. 2)."""

    def call(self, inputs):
        iq, phi = inputs
        c, s = ops.cos(phi)[:, :, None], ops.sin(phi)[:, :, None]
        i, q = iq[..., 0:1], iq[..., 1:2]
        return ops.concatenate([i * c + q * s, q * c - i * s], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class WithAmplitude(layers.Layer):
    """(batch, L, 2) I/Q -> (batch, L, 3): I, Q and the amplitude sqrt(I^2 + Q^2), which a
    ReLU network under a random carrier phase can only approximate from I and Q."""

    def call(self, iq):
        amp = ops.sqrt(ops.sum(ops.square(iq), axis=-1, keepdims=True) + 1e-12)
        return ops.concatenate([iq, amp], axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SparseWeighting2D(layers.Layer):
    """2DSWM of SE-JNNet: channel weights from pooled features through a small MLP,
    then spatial weights from a convolution over channel-pooled maps; an L1 penalty
    on both sets of weights makes them sparse."""

    def __init__(self, reduction: int = 4, kernel: int = 7, l1: float = 1e-4, **kwargs):
        super().__init__(**kwargs)
        self.reduction, self.kernel, self.l1 = reduction, kernel, l1

    def build(self, input_shape):
        channels = input_shape[-1]
        reg = keras.regularizers.L1(self.l1)
        hidden = max(1, channels // self.reduction)
        self.mlp_in = layers.Dense(hidden, activation="relu", kernel_regularizer=reg)
        self.mlp_out = layers.Dense(channels, kernel_regularizer=reg)
        self.spatial = layers.Conv2D(1, (self.kernel, 1), padding="same", kernel_regularizer=reg)
        self.mlp_in.build((None, channels))
        self.mlp_out.build((None, hidden))
        self.spatial.build((*input_shape[:-1], 2))

    def call(self, x):
        avg = ops.mean(x, axis=(1, 2))
        mx = ops.max(x, axis=(1, 2))
        w = ops.sigmoid(self.mlp_out(self.mlp_in(avg)) + self.mlp_out(self.mlp_in(mx)))
        x = x * w[:, None, None, :]
        pooled = ops.concatenate(
            [ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)], -1
        )
        return x * ops.sigmoid(self.spatial(pooled))

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "kernel": self.kernel, "l1": self.l1}


# ---- Wang et al.'s flow-based signal enhancement: invertible layers on (batch, L, C) sequences.
# Each has `inverse`, which the tests use to prove the enhancement is a normalizing flow.


@keras.saving.register_keras_serializable(package=PACKAGE)
class ActNorm(layers.Layer):
    """y = s * x + b per channel, s = exp(log_s) > 0 (Wang et al. Table 1). Starts as the identity:
    inputs arrive at unit power already (rms normalization)."""

    def build(self, input_shape):
        c = input_shape[-1]
        self.log_s = self.add_weight(name="log_s", shape=(c,), initializer="zeros")
        self.b = self.add_weight(name="b", shape=(c,), initializer="zeros")

    def call(self, x):
        return x * ops.exp(self.log_s) + self.b

    def inverse(self, y):
        return (y - self.b) * ops.exp(-self.log_s)


@keras.saving.register_keras_serializable(package=PACKAGE)
class InvertibleConv1x1(layers.Layer):
    """y = W x over channels with W a learned invertible matrix, orthogonal at the start
    (a random rotation of the squeezed channels that keeps the signal's energy)."""

    def build(self, input_shape):
        c = input_shape[-1]
        self.w = self.add_weight(name="w", shape=(c, c), initializer=keras.initializers.Orthogonal(seed=0))

    def call(self, x):
        return ops.matmul(x, self.w)

    def inverse(self, y):
        return ops.matmul(y, ops.inv(self.w))


@keras.saving.register_keras_serializable(package=PACKAGE)
class AffineCoupling(layers.Layer):
    """Wang et al. Table 2: split the channels in halves a, b; a' = a + g1(b); b' = b * s(a') + t(a'),
    s = exp(tanh(.)) in [1/e, e]. g1 and (s, t) are small per-sample MLPs ("Dense blocks");
    their last layers start at zero, so the coupling starts as the identity."""

    def __init__(self, hidden: int = 93, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden

    def _mlp(self, n_in, n_out, name):
        net = keras.Sequential(
            [
                layers.Dense(self.hidden, activation="relu"),
                layers.Dense(self.hidden, activation="relu"),
                layers.Dense(n_out, kernel_initializer="zeros"),
            ],
            name=name,
        )
        net.build((None, None, n_in))
        return net

    def build(self, input_shape):
        self.half = input_shape[-1] // 2
        self.g1 = self._mlp(self.half, self.half, "shift_a")
        self.g2 = self._mlp(self.half, 2 * self.half, "scale_shift_b")

    def _scale_shift(self, a):
        st = self.g2(a)
        return ops.exp(ops.tanh(st[..., : self.half])), st[..., self.half :]

    def call(self, x):
        a, b = x[..., : self.half], x[..., self.half :]
        a = a + self.g1(b)
        s, t = self._scale_shift(a)
        return ops.concatenate([a, b * s + t], axis=-1)

    def inverse(self, y):
        a, b = y[..., : self.half], y[..., self.half :]
        s, t = self._scale_shift(a)
        b = (b - t) / s
        return ops.concatenate([a - self.g1(b), b], axis=-1)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


@keras.saving.register_keras_serializable(package=PACKAGE)
class IQCorrection(layers.Layer):
    """Wang et al.'s phase correction (eq. 5, 6): estimated 2x2 matrix [[a, b], [c, d]] and offset
    (e, f) undo rotation, I/Q imbalance and DC shift: y = (I + D) x + t. Takes the signal and
    the six estimates (zero at the start: the identity)."""

    def call(self, inputs):
        iq, p = inputs
        i, q = iq[..., 0:1], iq[..., 1:2]
        a, b, c, d, e, f = (p[:, None, k : k + 1] for k in range(6))
        return ops.concatenate([(1 + a) * i + b * q + e, c * i + (1 + d) * q + f], axis=-1)


def flow_enhancement(x, window: int, steps: int = 4, hidden: int = 93):
    """Wang et al.'s signal enhancement: two downscale blocks, each a squeeze (two consecutive
    samples side by side: twice the channels, half the length) and `steps` steps of flow
    (actnorm, invertible 1x1 convolution, affine coupling); then back to (N, 2)."""
    if window % 4:
        raise ValueError(f"window {window}: the flow enhancement needs a multiple of 4")
    channels = 2
    for level in range(2):
        x = layers.Reshape((window // 2 ** (level + 1), 2 * channels), name=f"squeeze{level}")(x)
        channels *= 2
        for k in range(steps):
            x = ActNorm(name=f"actnorm{level}_{k}")(x)
            x = InvertibleConv1x1(name=f"invconv{level}_{k}")(x)
            x = AffineCoupling(hidden, name=f"coupling{level}_{k}")(x)
    return layers.Reshape((window, 2), name="unsqueeze")(x)


def _head(x, n_classes):
    return layers.Dense(n_classes, activation="softmax", name="probabilities")(x)


def cnn2(n_classes: int, window: int) -> keras.Model:
    """O'Shea's 2-layer CNN as used in Jiang and Liu: (2, N) input."""
    inp = keras.Input((2, window), name="iq")
    x = layers.Reshape((2, window, 1))(inp)
    x = layers.Conv2D(256, (1, 3), padding="same", activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv2D(80, (2, 3), padding="valid", activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inp, _head(x, n_classes), name="cnn2")


def cnn_lstm(n_classes: int, window: int) -> keras.Model:
    """Jiang: two Conv1D + BatchNorm + pooling + dropout 0.3 blocks, then two
    bidirectional LSTMs of 128 (the first returning sequences), dense, softmax."""
    inp = keras.Input((window, 2), name="iq")
    x = inp
    for filters in (64, 128):
        x = layers.Conv1D(filters, 8, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling1D(2)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Bidirectional(layers.LSTM(128, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(128))(x)
    x = layers.Dense(128, activation="relu")(x)
    return keras.Model(inp, _head(x, n_classes), name="cnn_lstm")


def cldnn(n_classes: int, window: int) -> keras.Model:
    """Liu: convolutions (with batch norm and ReLU) feeding an LSTM, then dense layers."""
    inp = keras.Input((window, 2), name="iq")
    x = inp
    for _ in range(2):
        x = layers.Conv1D(64, 8, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.LSTM(128)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inp, _head(x, n_classes), name="cldnn")


def pet_cgdnn(n_classes: int, window: int) -> keras.Model:
    """Zhang et al. 2021: phase estimator (Flatten + linear Dense(1)), rotation y e^{-j phi}, Conv 75
    (2x8), Conv 25 (1x5), GRU 128, Dense(C). Input (N, 2); the paper's (2, N) kernels
    become (8, 2) and (5, 1) here, with the same weights and count."""
    inp = keras.Input((window, 2), name="iq")
    phi = layers.Dense(1, name="phase_estimator")(layers.Flatten()(inp))
    x = PhaseRotation(name="phase_rotation")([inp, phi])
    x = layers.Reshape((window, 2, 1))(x)
    x = layers.Conv2D(75, (8, 2), activation="relu")(x)
    x = layers.Conv2D(25, (5, 1), activation="relu")(x)
    x = layers.Reshape((window - 11, 25))(x)
    x = layers.GRU(128)(x)
    return keras.Model(inp, _head(x, n_classes), name="pet_cgdnn")


def lstm_ap(n_classes: int, window: int | None = None) -> keras.Model:
    """Rajendran et al. 2018: two LSTM layers of 128 on amplitude-phase input of any length."""
    inp = keras.Input((window, 2), name="amp_phase")
    x = layers.LSTM(128, return_sequences=True)(inp)
    x = layers.LSTM(128)(x)
    return keras.Model(inp, _head(x, n_classes), name="lstm_ap")


def gru2(n_classes: int, window: int) -> keras.Model:
    """The two-layer GRU baseline of Zhang et al. 2021 and Wang et al."""
    inp = keras.Input((window, 2), name="iq")
    x = layers.GRU(128, return_sequences=True)(inp)
    x = layers.GRU(128)(x)
    return keras.Model(inp, _head(x, n_classes), name="gru2")


def jnnet(n_classes: int, window: int, enhance: bool = False) -> keras.Model:
    """Wang et al. without its signal enhancement: Conv 64 (6x2) and Conv 32 (3x1), each followed
    by the L1-sparse channel + spatial weighting (2DSWM), GRU 128, GRU 64, Dense."""
    inp = keras.Input((window, 2), name="iq")
    x = inp
    if enhance:
        x = flow_enhancement(x, window)
        p = layers.Dense(6, kernel_initializer="zeros", name="iq_estimator")(layers.Flatten()(x))
        x = IQCorrection(name="iq_correction")([x, p])
    x = layers.Reshape((window, 2, 1))(x)
    x = layers.Conv2D(64, (6, 2), padding="same", activation="relu")(x)
    x = SparseWeighting2D(name="swm1")(x)
    x = layers.Conv2D(32, (3, 1), padding="same", activation="relu")(x)
    x = SparseWeighting2D(name="swm2")(x)
    x = layers.Reshape((window, 2 * 32))(x)
    x = layers.GRU(128, return_sequences=True)(x)
    x = layers.GRU(64)(x)
    return keras.Model(inp, _head(x, n_classes), name="se_jnnet" if enhance else "jnnet")


def se_jnnet(n_classes: int, window: int) -> keras.Model:
    """Wang et al.'s SE-JNNet: the flow-based enhancement and the I/Q (phase) correction in front
    of JNNet, trained jointly by the classification loss (Wang et al.'s "collaborative training").
    276,727 parameters for 11 classes at 128; Wang et al.'s Table 6 says 277,716 without giving the
    width of the coupling networks (93 here is the nearest)."""
    return jnnet(n_classes, window, enhance=True)


def vgg_cnn(n_classes: int, window: int) -> keras.Model:
    """The VGG-style CNN of O'Shea, Roy & Clancy (2018), the compact baseline beside the
    five papers: Conv1D 64 (3) + batch norm + max-pool 2, repeated until 4 samples are
    left (5 blocks at 128, 8 at 1024), two Dense 128 (SELU), Dense(C). About 5x fewer
    multiply-adds per window than PET-CGDNN, which makes it the live default."""
    if window < 16 or window & (window - 1):
        raise ValueError(f"window {window}: vgg_cnn needs a power of two >= 16")
    inp = keras.Input((window, 2), name="iq")
    x = inp
    for _ in range(window.bit_length() - 3):
        x = layers.Conv1D(64, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.Flatten()(x)
    for _ in range(2):
        x = layers.Dense(128, activation="selu")(x)
        x = layers.AlphaDropout(0.1)(x)
    return keras.Model(inp, _head(x, n_classes), name="vgg_cnn")


def _residual(x, filters: int, kernel: int):
    """Two convolutions with batch norm and a skip connection (a 1x1 projection when the
    width changes), ReLU after the sum."""
    skip = x
    if x.shape[-1] != filters:
        skip = layers.Conv1D(filters, 1, use_bias=False)(x)
        skip = layers.BatchNormalization()(skip)
    y = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    return layers.Activation("relu")(layers.Add()([skip, y]))


RES_CNN_WIDTHS = (32, 32, 64, 96)  # the stem, then the three residual stages
RES_CNN_WIDE = (40, 40, 80, 128)  # 1.6x the multiply-adds (ml/cost.py): inside the real-time floor


def res_cnn(n_classes: int, window: int, amplitude: bool = False, widths=RES_CNN_WIDTHS,
            name: str = "res_cnn") -> keras.Model:  # fmt: skip
    """gr-amc's compact residual CNN for live use: a 7-tap stem, then residual stages of
    32 (5 taps), 64 and 96 (3 taps) filters, halving the time axis before each, and
    global average and max pooling into Dense 128: about 2.2 M multiply-adds per
    128-sample window (vgg_cnn: 1.5 M), 110 k parameters whatever the window. Global
    pooling makes it indifferent to where in the window a feature falls. With
    `amplitude` the stem also sees |x| (res_cnn_amp, 1 % more multiply-adds); `widths`
    sets the stem's and the stages' filters (res_cnn_wide: RES_CNN_WIDE)."""
    inp = keras.Input((window, 2), name="iq")
    x = WithAmplitude()(inp) if amplitude else inp
    x = layers.Conv1D(widths[0], 7, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters, kernel in zip(widths[1:], (5, 3, 3), strict=True):
        x = layers.MaxPooling1D(2)(x)
        x = _residual(x, filters, kernel)
    x = layers.Concatenate()([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inp, _head(x, n_classes), name="res_cnn_amp" if amplitude else name)


def res_cnn_amp(n_classes: int, window: int) -> keras.Model:
    return res_cnn(n_classes, window, amplitude=True)


def res_cnn_wide(n_classes: int, window: int) -> keras.Model:
    return res_cnn(n_classes, window, widths=RES_CNN_WIDE, name="res_cnn_wide")


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    build: Callable[..., keras.Model]
    representation: str
    layout: str
    normalization: str
    variable_length: bool = False
    paper: str = ""

    def spec(self, window: int) -> VectorSpec:
        """The vectorizer parameters that feed this model."""
        return VectorSpec(window, self.representation, self.layout, self.normalization)


# I/Q models see unit mean power per sample ("rms"): values near 1 train much faster
# than unit-energy windows (values near 1/sqrt(N)), and the scale does not depend on N.
MODELS = {
    "cnn2": ZooEntry(cnn2, "iq", "channels_first", "rms", paper="O'Shea et al. 2016, as in Jiang and Liu"),
    "cnn_lstm": ZooEntry(cnn_lstm, "iq", "channels_last", "rms", paper="Jiang"),
    "cldnn": ZooEntry(cldnn, "iq", "channels_last", "rms", paper="Liu"),
    "pet_cgdnn": ZooEntry(pet_cgdnn, "iq", "channels_last", "rms", paper="Zhang et al. 2021"),
    "lstm_ap": ZooEntry(
        lstm_ap, "amp_phase", "channels_last", "l2", variable_length=True, paper="Rajendran et al. 2018"
    ),
    "gru2": ZooEntry(gru2, "iq", "channels_last", "rms", paper="Zhang et al. 2021 and Wang et al."),
    "jnnet": ZooEntry(jnnet, "iq", "channels_last", "rms", paper="Wang et al."),
    "se_jnnet": ZooEntry(se_jnnet, "iq", "channels_last", "rms", paper="Wang et al."),
    "vgg_cnn": ZooEntry(vgg_cnn, "iq", "channels_last", "rms", paper="O'Shea et al. 2018"),
    "res_cnn": ZooEntry(res_cnn, "iq", "channels_last", "rms", paper="gr-amc"),
    "res_cnn_amp": ZooEntry(res_cnn_amp, "iq", "channels_last", "rms", paper="gr-amc"),
    "res_cnn_wide": ZooEntry(res_cnn_wide, "iq", "channels_last", "rms", paper="gr-amc"),
}

# Models that start from another's weights (`amc train --init`) although their inputs or
# layers are wider: what is added starts at zero weight into what was there (transfer_weights),
# so training begins from the model it grew from, exactly.
GROWS_FROM = {"res_cnn_amp": "res_cnn", "res_cnn_wide": "res_cnn"}


assert tuple(MODELS) == names.ZOO, "ml/names.py lists the zoo for the command line: keep it in step"


def build(name: str, n_classes: int, window: int | None) -> keras.Model:
    """Build a zoo model by name for `n_classes` and vectors of `window` samples
    (None: any length, for variable-length models)."""
    if name not in MODELS:
        raise ValueError(f"model {name!r} is not one of: {', '.join(MODELS)}")
    entry = MODELS[name]
    if window is None and not entry.variable_length:
        raise ValueError(f"model {name} needs a fixed window length")
    if n_classes < 2:
        raise ValueError(f"n_classes {n_classes} must be >= 2")
    return entry.build(n_classes, window)


def _input_rows(layer, grown) -> np.ndarray | None:
    """Where the inputs of a Dense layer fed by a Concatenate of src sit among dst's: each
    concatenated part keeps its place, wider in dst (None where the input is not a Concatenate)."""
    op = layer.input._keras_history[0]
    mine = grown.input._keras_history[0]
    if not isinstance(op, layers.Concatenate):
        return None
    rows, at = [], 0
    for part, wide in zip(op.input, mine.input, strict=True):
        rows.append(at + np.arange(part.shape[-1]))
        at += wide.shape[-1]
    return np.concatenate(rows)


def transfer_weights(src: keras.Model, dst: keras.Model) -> None:
    """Set dst's weights from src's, layer by layer, where dst has the same layers, or wider
    ones (more input channels, more filters). Equal shapes are copied; a wider array gets src's
    values in its leading entries, its new filters keep their fresh initialisation, and the
    weights from new inputs into src's outputs are zero: dst computes exactly what src did,
    and gradient descent puts the new channels to use."""
    pairs = list(zip(*([lay for lay in m.layers if lay.weights] for m in (src, dst)), strict=False))
    if sum(len(a.weights) for a, _ in pairs) != len(src.weights) or len(src.weights) != len(dst.weights):
        raise ValueError(
            f"init: {src.name} has {len(src.weights)} weight arrays, {dst.name} {len(dst.weights)}"
        )
    for a, b in pairs:
        out = []
        for i, (s, d) in enumerate(zip(a.get_weights(), b.get_weights(), strict=True)):
            if s.shape == d.shape:
                out.append(s)
                continue
            if (
                s.ndim != d.ndim
                or any(m > n for m, n in zip(s.shape, d.shape, strict=True))
                or (s.ndim >= 2 and s.shape[:-2] != d.shape[:-2])
            ):
                raise ValueError(
                    f"init: weight {i} of {a.name} in {src.name} is {s.shape}, in {dst.name} {d.shape}"
                )
            w = d.copy()
            if s.ndim == 1:
                w[: len(s)] = s
            else:
                rows = _input_rows(a, b) if isinstance(a, layers.Dense) else None
                rows = np.arange(s.shape[-2]) if rows is None else rows
                w[..., :, : s.shape[-1]] = 0.0  # nothing new flows into src's outputs
                w[..., rows, : s.shape[-1]] = s
            out.append(w)
        b.set_weights(out)


def compile_for_training(model: keras.Model, lr: float, soft_targets: bool = False) -> keras.Model:
    """The one optimiser, loss and metric of training and fine-tuning (pruning) runs: labels are
    class indices, or with soft_targets probability vectors (outlier exposure)."""
    loss = "categorical_crossentropy" if soft_targets else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss, metrics=["accuracy"])
    return model


def save_inference(model: keras.Model, path: str) -> None:
    """Save architecture and weights without the optimizer's state (a third of the size). A
    model rebuilt from its config has no optimizer; keras.models.clone_model of a compiled
    model keeps the optimizer, and saves its state (tests/test_models.py checks the file)."""
    bare = keras.Model.from_config(model.get_config())
    bare.set_weights(model.get_weights())
    bare.save(path)
