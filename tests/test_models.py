# SPDX-License-Identifier: GPL-3.0-or-later
"""The model zoo: the papers' parameter counts, inputs as the vectorizer makes them,
and safe loading."""

import keras
import numpy as np
import pytest
from gnuradio import amc

from gnuradio.amc.ml import models


@pytest.mark.parametrize(
    "name, n_classes, window, params",
    [
        ("pet_cgdnn", 11, 128, 71_871),  # 002, Table I, RML2016.10a
        ("pet_cgdnn", 24, 1024, 75_340),  # 002, Table I, RML2018.01a
        ("lstm_ap", 11, None, 200_075),  # 004, 2 x LSTM 128
        ("gru2", 11, 128, 151_179),  # 002 Table I and 003 Table 6
        ("se_jnnet", 11, 128, 276_727),  # 003 Table 6: 277,716 (its coupling width unstated)
    ],
)
def test_parameter_counts_match_the_papers(name, n_classes, window, params):
    assert models.build(name, n_classes, window).count_params() == params


@pytest.mark.parametrize("name", list(models.MODELS))
def test_every_model_takes_what_the_vectorizer_makes_and_loads_safely(name, tmp_path):
    entry = models.MODELS[name]
    spec = entry.spec(128)
    model = models.build(name, 11, None if entry.variable_length else 128)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model.layers)
    # a real vectorizer of the model's declared parameters sets the input shape
    vec = amc.vectorizer(128, 128, spec.representation, spec.layout, spec.normalization)
    assert vec.vlen() == int(np.prod(spec.shape))
    if not entry.variable_length:
        assert tuple(model.input_shape[1:]) == spec.shape
    x = np.random.default_rng(0).standard_normal((3, *spec.shape)).astype(np.float32)
    p = np.asarray(model(x))
    assert p.shape == (3, 11)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), p, atol=1e-6)


def test_lstm_ap_takes_any_length():
    model = models.build("lstm_ap", 11, None)
    for n in (64, 128, 512):
        assert model(np.zeros((2, n, 2), np.float32)).shape == (2, 11)


def test_phase_rotation_undoes_a_rotation():
    iq = np.random.default_rng(1).standard_normal((2, 16, 2)).astype(np.float32)
    phi = np.array([[0.7], [-2.0]], np.float32)
    z = iq[..., 0] + 1j * iq[..., 1]
    out = np.asarray(models.PhaseRotation()([iq, phi]))
    np.testing.assert_allclose(out[..., 0] + 1j * out[..., 1], z * np.exp(-1j * phi), atol=1e-5)


def test_se_jnnet_enhancement_is_an_invertible_flow_that_starts_energy_preserving():
    model = models.build("se_jnnet", 11, 128)
    x = np.random.default_rng(2).standard_normal((2, 128, 2)).astype(np.float32)
    enhance = keras.Model(model.input, model.get_layer("iq_correction").output)
    # untrained: identity actnorm and couplings, orthogonal mixing: the energy stays
    np.testing.assert_allclose(
        np.sum(np.asarray(enhance(x)) ** 2, axis=(1, 2)), np.sum(x**2, axis=(1, 2)), rtol=1e-4
    )
    rng = np.random.default_rng(3)
    for w in model.weights:  # any trained state: random weights
        w.assign(w + 0.05 * rng.standard_normal(w.shape).astype(np.float32))
    kinds = ("actnorm", "invconv", "coupling")
    steps = [
        [model.get_layer(f"{kind}{level}_{k}") for k in range(4) for kind in kinds] for level in range(2)
    ]
    y = x
    for level, chain in enumerate(steps):
        y = y.reshape(2, 128 // 2 ** (level + 1), -1)
        for layer in chain:
            y = np.asarray(layer(y))
    assert not np.allclose(y.reshape(x.shape), x, atol=0.1)
    for level, chain in reversed(list(enumerate(steps))):
        for layer in reversed(chain):
            y = np.asarray(layer.inverse(y))
        y = y.reshape(2, 128 // 2**level, -1)
    np.testing.assert_allclose(y, x, atol=1e-3)


def test_bad_model_requests():
    with pytest.raises(ValueError, match="model"):
        models.build("resnet", 11, 128)
    with pytest.raises(ValueError, match="fixed window"):
        models.build("pet_cgdnn", 11, None)
    with pytest.raises(ValueError, match="n_classes"):
        models.build("gru2", 1, 128)


def test_multiply_adds_count_the_weights_each_output_uses():
    import keras

    from gnuradio.amc.ml import cost

    inp = keras.Input((16, 2))
    x = keras.layers.Conv1D(4, 3, padding="same")(inp)  # 16 outputs x 4 filters x (3 x 2) weights
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(5)(x)  # 64 inputs x 5
    assert cost.multiply_adds(keras.Model(inp, out)) == 16 * 4 * 6 + 64 * 5
    assert cost.multiply_adds(models.build("res_cnn", 11, 128)) < 1.5 * cost.multiply_adds(
        models.build("vgg_cnn", 11, 128)
    )


def test_saved_inference_models_carry_no_optimizer_state(tmp_path):
    import io
    import zipfile

    import h5py

    model = models.compile_for_training(models.build("vgg_cnn", 4, 128), 1e-3)
    model.fit(np.zeros((8, 128, 2), np.float32), np.zeros(8), epochs=1, verbose=0)  # the optimizer has state
    models.save_inference(model, str(tmp_path / "m.keras"))
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        weights = h5py.File(io.BytesIO(z.read("model.weights.h5")))
        assert "optimizer" not in weights or not len(weights["optimizer"])


def test_a_model_grown_from_another_starts_as_it_and_takes_the_amplitude():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 128, 2)).astype(np.float32)
    src = models.build("res_cnn", 11, 128)
    src.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in src.get_weights()])
    grown = models.build("res_cnn_amp", 11, 128)
    models.transfer_weights(src, grown)
    np.testing.assert_allclose(np.asarray(grown(x)), np.asarray(src(x)), atol=1e-5)
    amp = np.asarray(models.WithAmplitude()(x))[..., 2]
    np.testing.assert_allclose(amp, np.hypot(x[..., 0], x[..., 1]), rtol=1e-5)
    with pytest.raises(ValueError, match="init: .*vgg_cnn"):
        models.transfer_weights(models.build("vgg_cnn", 11, 128), grown)


def test_a_wider_model_grown_from_a_narrow_one_starts_as_it_and_then_learns():
    # res_cnn_wide from res_cnn: more filters in every layer (the pooled features of the
    # Concatenate keep their places), the new ones feeding zeros into the old
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 128, 2)).astype(np.float32)
    src = models.build("res_cnn", 11, 128)
    src.set_weights([w + np.abs(rng.normal(0, 0.1, w.shape)).astype(w.dtype) for w in src.get_weights()])
    wide = models.build("res_cnn_wide", 11, 128)
    models.transfer_weights(src, wide)
    np.testing.assert_allclose(np.asarray(wide(x)), np.asarray(src(x)), atol=1e-5)
    assert wide.count_params() > 1.5 * src.count_params()
    y = np.arange(4) % 11
    models.compile_for_training(wide, 1e-2).fit(x, y, epochs=3, verbose=0)
    assert not np.allclose(np.asarray(wide(x)), np.asarray(src(x)), atol=1e-3)  # and it trains
    with pytest.raises(ValueError, match="init: .*res_cnn_wide"):
        models.transfer_weights(wide, models.build("res_cnn", 11, 128))  # narrower is no growth
