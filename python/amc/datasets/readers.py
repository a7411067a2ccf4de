# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading datasets safely: RML2016-style pickles (numpy arrays only, never code) and
RML2018-style HDF5 files, and what a file holds (amc dataset info)."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Loads dicts of numpy arrays and nothing else: a pickle can run code on load."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # Python 2 byte strings inside numpy's state
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only numpy arrays may be in a dataset"
        )


def read_pickle(path: str) -> dict:
    """Read an RML2016-style pickle {(mod, snr): float32 (n, 2, L)} safely."""
    with open(path, "rb") as f:
        data = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: not a RML2016-style dataset (expected a non-empty dict)")
    out = {}
    for key, value in data.items():
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str | bytes)):
            raise ValueError(f"{path}: key {key!r} is not (modulation, snr)")
        if not isinstance(value, np.ndarray) or value.ndim != 3 or value.shape[1] != 2:
            raise ValueError(f"{path}: value of {key!r} is not an array of shape (n, 2, L)")
        mod = key[0].decode() if isinstance(key[0], bytes) else key[0]
        out[(mod, int(key[1]))] = value.astype(np.float32, copy=False)
    return out


def read_hdf5(path: str, length: int | None = None) -> dict:
    """Read an RML2018-style HDF5 file; returns X, Y, Z (and sps, esn0_db, snr_db when
    present) and the attributes. Files with several lengths need `length`."""
    import h5py  # not on Debian's python3: only for HDF5 files

    with h5py.File(path, "r") as f:
        attrs = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}
        g = f
        if "X" not in f:
            lengths = sorted(int(k[1:]) for k in f if k.startswith("L"))
            if length is None:
                raise ValueError(f"{path} holds lengths {lengths}: choose one")
            if f"L{length}" not in f:
                raise ValueError(f"{path}: no length {length} (has {lengths})")
            g = f[f"L{length}"]
        data = {k: g[k][()] for k in ("X", "Y", "Z", "sps", "esn0_db", "snr_db") if k in g}
    data["attrs"] = attrs
    return data


def info(path: str) -> str:
    """What a dataset file holds, in a few lines."""
    import h5py  # not on Debian's python3: only for HDF5 files

    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\x89HDF"):
        lines = [f"{path}: HDF5"]
        with h5py.File(path, "r") as f:
            for k, v in f.attrs.items():
                lines.append(f"  {k}: {v.tolist() if hasattr(v, 'tolist') else v}")
            groups = [("", f)] if "X" in f else [(k, f[k]) for k in sorted(f)]
            for name, g in groups:
                z = g["Z"][:, 0]
                lines.append(
                    f"  {name or '/'}: X {g['X'].shape} {g['X'].dtype}, {g['Y'].shape[1]} classes, "
                    f"SNR {z.min()}..{z.max()} ({len(np.unique(z))} values)"
                )
        return "\n".join(lines)
    data = read_pickle(path)
    mods = sorted({m for m, _ in data})
    snrs = sorted({s for _, s in data})
    shape = next(iter(data.values())).shape
    n = sum(len(v) for v in data.values())
    return (
        f"{path}: RML2016-style pickle\n  {len(mods)} classes: {' '.join(mods)}\n"
        f"  SNR {snrs[0]}..{snrs[-1]} ({len(snrs)} values)\n  {n} vectors of shape {shape[1:]} float32"
    )
