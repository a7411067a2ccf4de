# SPDX-License-Identifier: GPL-3.0-or-later
"""RadioML-style datasets: regeneration with GNU Radio flowgraphs, writers and safe readers.

- generate: presets (RML2016.10a, RML2018.01a, modified), the task grid, the channels,
  the pickle and HDF5 writers (amc dataset generate)
- readers: numpy-only pickle loading, HDF5 reading, `amc dataset info`

May import runtime/, blocks.modulation_source, GNU Radio, numpy, and h5py inside the
functions that read or write HDF5 (Debian's python3 has no h5py); never
TensorFlow or Keras.
"""
