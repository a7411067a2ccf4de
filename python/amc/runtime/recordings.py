# SPDX-License-Identifier: GPL-3.0-or-later
"""Recordings for `amc classify`: raw cf32, SigMF, WAV I/Q and .npy, read without
unpickling anything, and SigMF annotations written back atomically."""

from __future__ import annotations

import dataclasses
import json
import os
import struct

import numpy as np

from .atomic import AtomicFile

SIGMF_TYPES = {  # core:datatype -> (numpy dtype of one component, scale to +-1)
    "cf32_le": ("<f4", 1.0),
    "cf64_le": ("<f8", 1.0),
    "ci32_le": ("<i4", 2.0**-31),
    "ci16_le": ("<i2", 2.0**-15),
    "ci8": ("i1", 2.0**-7),
    "cu8": ("u1", None),  # offset binary
}
RAW_SUFFIXES = (".cf32", ".fc32", ".raw", ".bin", ".iq")


@dataclasses.dataclass
class Recording:
    samples: np.ndarray  # complex64: (n,) a stream, or (k, L) pre-cut windows
    samp_rate: float | None
    kind: str
    meta_path: str | None = None  # SigMF metadata, for annotations
    warnings: list[str] = dataclasses.field(default_factory=list)  # read, but not all of it
    center_freq: float = 0.0  # Hz of the stream's centre (SigMF's first capture), else 0

    @property
    def windows(self) -> bool:
        return self.samples.ndim == 2


def _interleaved(raw: np.ndarray, scale) -> np.ndarray:
    if scale is None:  # cu8: 0..255 around 127.5
        iq = (raw.astype(np.float32) - 127.5) / 127.5
    else:
        iq = raw.astype(np.float32) * np.float32(scale)
    if len(iq) % 2:
        raise ValueError("odd number of I/Q components: the file is truncated")
    return (iq[0::2] + 1j * iq[1::2]).astype(np.complex64)


def read_sigmf(path: str) -> Recording:
    base = path[: -len(".sigmf-meta")] if path.endswith(".sigmf-meta") else path
    base = base[: -len(".sigmf-data")] if base.endswith(".sigmf-data") else base
    meta_path, data_path = base + ".sigmf-meta", base + ".sigmf-data"
    for p in (meta_path, data_path):
        if not os.path.isfile(p):
            raise ValueError(f"SigMF recording {base}: {p} is missing")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        glob = meta["global"]
        datatype = glob["core:datatype"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{meta_path} is not SigMF metadata ({e})") from None
    if not isinstance(datatype, str) or datatype not in SIGMF_TYPES:
        raise ValueError(
            f"{meta_path}: core:datatype {datatype!r} is not one of {', '.join(SIGMF_TYPES)} (complex only)"
        )
    rate = glob.get("core:sample_rate")
    if rate is not None and not (
        isinstance(rate, (int, float)) and not isinstance(rate, bool) and np.isfinite(rate) and rate > 0
    ):
        raise ValueError(f"{meta_path}: core:sample_rate {rate!r} is not a positive number")
    annotations = meta.get("annotations", [])
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise ValueError(f"{meta_path}: annotations must be a list of objects")
    captures = meta.get("captures") or [{}]
    freq = captures[0].get("core:frequency", 0.0) if isinstance(captures[0], dict) else 0.0
    if not (isinstance(freq, (int, float)) and not isinstance(freq, bool) and np.isfinite(freq)):
        raise ValueError(f"{meta_path}: core:frequency {freq!r} of the first capture is not a number")
    dtype, scale = SIGMF_TYPES[datatype]
    raw, warnings = _read_whole_items(data_path, dtype, 2)
    return Recording(_interleaved(raw, scale), rate, "sigmf", meta_path, warnings, float(freq))


def read_wav(path: str) -> Recording:
    """A two-channel (I, Q) WAV: 8/16/32-bit PCM or 32-bit float."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path} is not a WAV file")
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            if len(body) < 16:
                raise ValueError(f"{path}: WAV fmt chunk of {len(body)} bytes (needs 16)")
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            payload = body
        pos += 8 + size + (size & 1)
    if fmt is None or payload is None:
        raise ValueError(f"{path}: WAV without fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if channels != 2:
        raise ValueError(f"{path}: {channels} channel(s); I/Q WAV needs 2 (I left, Q right)")
    kinds = {
        (1, 8): ("u1", None),
        (1, 16): ("<i2", 2.0**-15),
        (1, 32): ("<i4", 2.0**-31),
        (3, 32): ("<f4", 1.0),
    }
    if (tag, bits) not in kinds and not (tag == 0xFFFE and bits in (16, 32)):
        raise ValueError(f"{path}: WAV format {tag} with {bits} bits is not supported")
    dtype, scale = kinds.get((tag, bits), ("<i2", 2.0**-15) if bits == 16 else ("<f4", 1.0))
    raw = np.frombuffer(payload[: len(payload) // np.dtype(dtype).itemsize * np.dtype(dtype).itemsize], dtype)
    return Recording(_interleaved(raw, scale), float(rate), "wav")


def _npy_size_fits(path: str) -> None:
    """The shape a .npy header declares must fit the file: numpy would allocate first."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                version, np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(f)
            header_end = f.tell()
    except (ValueError, OSError, SyntaxError) as e:
        raise ValueError(f"{path}: not a plain .npy array ({e})") from None
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    have = os.path.getsize(path) - header_end
    if need > have:
        raise ValueError(f"{path}: its header declares shape {shape} of {dtype} ({need:,} bytes), "
                         f"but the file holds {have:,} bytes of data")  # fmt: skip


def read_npy(path: str) -> Recording:
    _npy_size_fits(path)
    try:
        x = np.load(path, allow_pickle=False)  # object arrays would need unpickling: refused
    except ValueError as e:
        raise ValueError(f"{path}: not a plain .npy array ({e})") from None
    if not np.iscomplexobj(x) or x.ndim not in (1, 2):
        raise ValueError(
            f"{path}: needs a 1-D complex stream or a 2-D complex array of windows, got {x.dtype} {x.shape}"
        )
    return Recording(x.astype(np.complex64), None, "npy")


def _read_whole_items(path: str, dtype, per_sample: int) -> tuple[np.ndarray, list[str]]:
    """The values of the whole complex samples (per_sample values of dtype each) of a raw
    file; an empty or shorter file is an error, a last partial sample a warning."""
    item = np.dtype(dtype).itemsize * per_sample
    size = os.path.getsize(path)
    if size < item:
        raise ValueError(f"{path}: {size} bytes, less than one complex sample ({item} bytes)")
    count = size // item
    warnings = []
    if size % item:
        warnings.append(f"{path}: {size} bytes is not a whole number of {item}-byte samples; "
                        f"the last {size % item} bytes are ignored")  # fmt: skip
    return np.fromfile(path, dtype=dtype, count=count * per_sample), warnings


def read(path: str) -> Recording:
    """Read a recording by its name: .sigmf-meta/.sigmf-data, .wav, .npy, or raw cf32."""
    if path.endswith((".sigmf-meta", ".sigmf-data", ".sigmf")) or os.path.isfile(path + ".sigmf-meta"):
        return read_sigmf(path[: -len(".sigmf")] if path.endswith(".sigmf") else path)
    if os.path.isdir(path):
        raise ValueError(f"recording {path} is a directory, not a file")
    if not os.path.isfile(path):
        raise ValueError(f"recording {path} does not exist")
    if path.endswith(".wav"):
        return read_wav(path)
    if path.endswith(".npy"):
        return read_npy(path)
    if path.endswith(RAW_SUFFIXES):
        samples, warnings = _read_whole_items(path, "<c8", 1)
        return Recording(samples, None, "cf32", warnings=warnings)
    raise ValueError(f"{path}: unknown recording type (use .cf32, .sigmf-meta, .wav or .npy)")


def segments(starts, labels: list[str], confidences, length: int) -> list[dict]:
    """Runs of consecutive windows with one label: start, end (samples), windows, label
    and the mean confidence of the run's windows."""
    out: list[dict] = []
    for start, label, conf in zip(starts, labels, confidences, strict=True):
        if out and out[-1]["label"] == label:
            seg = out[-1]
            seg["end"], seg["windows"] = int(start) + length, seg["windows"] + 1
            seg["_conf"].append(float(conf))
        else:
            out.append({"start": int(start), "end": int(start) + length, "windows": 1, "label": label,
                        "_conf": [float(conf)]})  # fmt: skip
    for seg in out:
        seg["confidence"] = float(np.mean(seg.pop("_conf")))
    return out


def _by_gr_amc(annotation: dict) -> bool:
    return str(annotation.get("core:generator", "")).startswith("gr-amc")


EXTENSION = {"name": "amc", "version": "1.0.0", "optional": True}  # the amc: fields written below


def annotate_sigmf(meta_path: str, segs: list[dict], model: str, architecture: str, generator: str) -> int:
    """Replace gr-amc's annotations in a SigMF metadata file (atomically), one per segment
    (start and end in the recording's samples); others stay."""
    return write_annotations(meta_path, "classify", [
        {"core:sample_start": s["start"], "core:sample_count": s["end"] - s["start"],
         "core:label": s["label"], "core:generator": generator,
         "amc:confidence": round(s["confidence"], 4), "amc:windows": s["windows"],
         "amc:model": model, "amc:architecture": architecture}
        for s in segs
    ])  # fmt: skip


def write_annotations(meta_path: str, tool: str, ours: list[dict]) -> int:
    """Replace the annotations gr-amc's `tool` (classify, scan) wrote before in a SigMF
    metadata file (atomically) by `ours` (core:generator "gr-amc ..."; amc:tool is added);
    others stay. The amc: fields are declared in core:extensions."""
    with open(meta_path) as f:
        meta = json.load(f)
    # the tool's annotations of any version are replaced, not piled up (classify's before
    # amc:tool existed had none)
    kept = [
        a
        for a in meta.get("annotations", [])
        if not (_by_gr_amc(a) and a.get("amc:tool", "classify") == tool)
    ]
    ours = [{**a, "amc:tool": tool} for a in ours]
    glob = meta.setdefault("global", {})
    extensions = [
        e for e in glob.get("core:extensions", []) if isinstance(e, dict) and e.get("name") != "amc"
    ]
    glob["core:extensions"] = extensions + [EXTENSION]
    meta["annotations"] = sorted(kept + ours, key=lambda a: a.get("core:sample_start", 0))
    with AtomicFile(meta_path) as tmp, open(tmp, "w") as f:
        json.dump(meta, f, indent=2)
    return len(ours)
