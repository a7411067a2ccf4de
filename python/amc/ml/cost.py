# SPDX-License-Identifier: GPL-3.0-or-later
"""Multiply-adds per window of a Keras model: the compute side of "accuracy per unit of compute".

Counted layer by layer from the built model's shapes: convolutions and dense layers (one
multiply-add per weight use), recurrent layers (their gate matrices per step). Normalisation,
activations and pooling are left out: they are a few operations per value, not per weight; so
are the networks inside custom layers (SE-JNNet's flow), which this undercounts.
"""

from __future__ import annotations

import numpy as np
from keras import layers


def _shape(t) -> tuple:
    return tuple(int(d) for d in t.shape[1:])


def multiply_adds(model) -> int:
    """Multiply-adds of one window through `model` (batch dimension 1)."""
    total = 0
    for layer, inp in _leaves(model):
        if isinstance(layer, (layers.Conv1D, layers.Conv2D)):
            out = _shape(layer.output)
            kernel = layer.kernel.shape  # (..., in, out)
            total += int(np.prod(out)) * int(np.prod(kernel[:-1]))
        elif isinstance(layer, layers.Dense):
            total += int(np.prod(inp[:-1] or (1,))) * inp[-1] * layer.units
        elif isinstance(layer, (layers.LSTM, layers.GRU, layers.SimpleRNN)):
            steps, features = inp[-2:]
            gates = {layers.LSTM: 4, layers.GRU: 3, layers.SimpleRNN: 1}[type(layer)]
            total += steps * gates * layer.units * (features + layer.units)
    return total


def _leaves(model):
    """(layer, input shape) of every layer, inside wrappers too (Bidirectional: both directions)."""
    for layer in model.layers:
        if isinstance(layer, layers.Bidirectional):
            inp = _shape(layer.input)
            yield from ((layer.forward_layer, inp), (layer.backward_layer, inp))
        elif isinstance(layer, layers.TimeDistributed):
            yield layer.layer, _shape(layer.input)
        elif hasattr(layer, "layers") and layer.layers:
            yield from _leaves(layer)
        else:
            yield (
                layer,
                (
                    _shape(layer.input)
                    if hasattr(layer, "input") and not isinstance(layer.input, list)
                    else ()
                ),
            )
