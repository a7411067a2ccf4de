# SPDX-License-Identifier: GPL-3.0-or-later
"""The zoo's model names, without TensorFlow: for `amc train --help` and argument checks
that must not start Keras (ml.models.MODELS holds the same names, checked there)."""

ZOO = (
    "cnn2",
    "cnn_lstm",
    "cldnn",
    "pet_cgdnn",
    "lstm_ap",
    "gru2",
    "jnnet",
    "se_jnnet",
    "vgg_cnn",
    "res_cnn",
    "res_cnn_amp",
    "res_cnn_wide",
)
