# SPDX-License-Identifier: GPL-3.0-or-later
"""Regenerate RadioML-style datasets with GNU Radio 3.10.

A dataset is a grid of tasks, one per (class, sps, length, SNR). Each task runs one
flowgraph, modulation_source -> burst_channel -> sink, and cuts its vectors from
the bursts. Every task has its own seed derived from the dataset seed and the
task's coordinates, so a file does not depend on the number of jobs.

SNR: the label is Es/N0 in dB with Es = sps * (mean signal power per sample),
the same definition for analog classes. Sources have unit power and the channel
keeps it on average, so the per-sample SNR is Es/N0 - 10 log10(sps); both are
stored for every vector. With --compat the noise follows the original generator
instead (complex noise of standard deviation 10**(-snr/10)), and its labels are
not an SNR (../shared/reference/radioml.md).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
import pickle
import signal
import time
from collections.abc import Iterable, Iterator

import numpy as np
from gnuradio import blocks, gr

from .._version import __version__
from ..amc_python import burst_channel
from ..blocks.modulation_source import modulation_source
from ..runtime import features, waveforms
from ..runtime.atomic import AtomicFile, check_output, terminate_as_interrupt
from ..runtime.progress import Progress
from .readers import file_sha256

CHANNELS = ("rml2016", "awgn", "none")


FORMATS = ("pickle", "hdf5")


NOISE_FREE_SNR = 100  # label of vectors made with channel "none"


SNR_DEFINITION = (
    "Es/N0 in dB, Es = sps * mean signal power per sample; per-sample SNR = Es/N0 - 10 log10(sps)"
)


COMPAT_SNR_DEFINITION = "RML2016 generator: complex noise std 10**(-snr/10) (not an SNR)"


# The RML2016 channel at its 200 kHz: 3-path Rician fading (K 4, 1 Hz Doppler). Its
# carrier and sample-rate offsets are random walks from zero (0.01 Hz per sample, capped
# at 500 and 50 Hz) that spread to about 10 Hz over a generator run; a uniform draw to
# +-20 Hz per burst gives that spread. (Offsets to the caps, 0.32 cycles of rotation in
# a 128-sample window, would make a much harder set than the one the papers report on.)
RML2016_RATE = 200e3


RML2016_OFFSET_HZ = 20.0


@dataclasses.dataclass(frozen=True)
class Preset:
    classes: tuple[str, ...]
    sps: tuple[int, ...]
    lengths: tuple[int, ...]
    snrs: tuple[int, ...]
    per: int
    format: str


PRESETS = {
    "rml2016.10a": Preset(waveforms.RML2016_CLASSES, (8,), (128,), tuple(range(-20, 20, 2)), 1000, "pickle"),
    "rml2018.01a": Preset(waveforms.RML2018_CLASSES, (8,), (1024,), tuple(range(-20, 32, 2)), 4096, "hdf5"),
    # Rajendran et al.: the 11 RML2016.10a classes at 4 and 8 sps, lengths 128..512, SNR -20..20,
    # 165,000 training + 165,000 test vectors (240 per cell: 332,640)
    "modified": Preset(
        waveforms.RML2016_CLASSES, (4, 8), (128, 256, 512), tuple(range(-20, 22, 2)), 240, "hdf5"
    ),
}


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that decides a dataset's content."""

    classes: tuple[str, ...]
    sps: tuple[int, ...]
    lengths: tuple[int, ...]
    snrs: tuple[int, ...]
    per: int
    channel: str = "rml2016"
    compat: bool = False
    normalization: str = "none"
    rolloff: float = 0.35
    seed: int = 0

    def __post_init__(self):
        if not self.classes:
            raise ValueError("classes: at least one class is needed")
        for c in self.classes:
            waveforms.check_params(modulation=c)
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes: duplicates in {self.classes}")
        if not self.sps:
            raise ValueError("sps: at least one value is needed")
        for s in self.sps:
            waveforms.check_params(sps=s)
        waveforms.check_params(rolloff=self.rolloff)
        if not self.lengths or min(self.lengths) < features.MIN_WINDOW:
            raise ValueError(f"length {self.lengths}: every length must be >= {features.MIN_WINDOW}")
        if not self.snrs:
            raise ValueError("snr: the SNR range is empty")
        if self.per < 1:
            raise ValueError(f"per {self.per} must be >= 1")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel {self.channel!r} is not one of: {', '.join(CHANNELS)}")
        if self.normalization not in features.NORMALIZATIONS:
            raise ValueError(
                f"normalization {self.normalization!r} is not one of: {', '.join(features.NORMALIZATIONS)}"
            )
        if self.compat and self.normalization not in ("l1", "none"):
            raise ValueError("compat: the original generator normalises by L1; leave normalization at l1")

    @property
    def stored_normalization(self) -> str:
        return "l1" if self.compat else self.normalization

    @property
    def label_snrs(self) -> tuple[int, ...]:
        return (NOISE_FREE_SNR,) if self.channel == "none" else self.snrs

    def tasks(self) -> list[Task]:
        """The grid in file order: class, then SNR, then sps, then length."""
        return [
            Task(c, snr, s, n)
            for c in self.classes
            for snr in self.label_snrs
            for s in self.sps
            for n in self.lengths
        ]


@dataclasses.dataclass(frozen=True)
class Task:
    modulation: str
    snr: int
    sps: int
    length: int


def snr_range(start: int, stop: int, step: int = 2) -> tuple[int, ...]:
    """Inclusive range of SNR labels; refuses empty and reversed ranges."""
    if step <= 0:
        raise ValueError(f"snr: step {step} must be > 0")
    if stop < start:
        raise ValueError(f"snr: the range {start}..{stop} is reversed")
    return tuple(range(start, stop + 1, step))


def noise_std(cfg: Config, task: Task) -> float:
    """Standard deviation of the complex noise for a unit-power signal."""
    if cfg.channel == "none":
        return 0.0
    if cfg.compat:
        return 10 ** (-task.snr / 10)
    return esn0_noise_std(task.snr, task.sps)


def esn0_noise_std(esn0_db: float, sps: int) -> float:
    """Complex noise std giving a unit-power signal at `sps` the Es/N0 `esn0_db`."""
    return float(np.sqrt(sps / 10 ** (esn0_db / 10)))


def nominal_snrs(cfg: Config, task: Task) -> tuple[float, float]:
    """(per-sample SNR, Es/N0) in dB that the noise of a task gives a unit-power signal."""
    std = noise_std(cfg, task)
    if std == 0:
        return np.inf, np.inf
    per_sample = -20 * np.log10(std)
    return per_sample, per_sample + 10 * np.log10(task.sps)


def burst_plan(length: int) -> tuple[int, int, int]:
    """(vectors per burst, samples skipped at a burst's start, burst length).

    A burst holds about 8k samples, never fewer than one vector, and grows with the
    vector length; its first samples, where the channel changes, are skipped.
    """
    skip = 64
    per_burst = max(1, 8192 // (length + length // 4))
    return per_burst, skip, skip + per_burst * (length + length // 4)


def _task_seeds(cfg: Config, task: Task) -> np.random.SeedSequence:
    cls = waveforms.ALL_CLASSES.index(task.modulation)
    return np.random.SeedSequence([cfg.seed, cls, task.sps, task.length, task.snr + 1000, int(cfg.compat)])


def make_channel(cfg: Config, task: Task, burst_len: int, seed: int):
    """The burst_channel block of the configuration, or None for channel 'none'."""
    std = noise_std(cfg, task)
    if cfg.channel == "none":
        return None
    if cfg.channel == "awgn":
        # phase, timing and a small carrier offset vary, nothing else
        cfo = RML2016_OFFSET_HZ / RML2016_RATE
        return burst_channel(burst_len, std, cfo, 0.0, False, 4.0, 0.0, [0.0], [1.0], True, True, seed)
    return rml2016_channel(burst_len, std, seed)


def rml2016_channel(burst_len: int, noise_std: float, seed: int):
    """amc.burst_channel set up as the RML2016 channel (see RML2016_RATE above)."""
    return burst_channel(
        burst_len,
        noise_std,
        RML2016_OFFSET_HZ / RML2016_RATE,
        min(RML2016_OFFSET_HZ / RML2016_RATE, 4.0 / burst_len),
        True,
        4.0,
        1.0 / RML2016_RATE,
        [0.0, 0.9, 1.7],
        [1.0, 0.8, 0.3],
        True,
        True,
        seed,
    )


def run_task(cfg: Config, task: Task) -> tuple[Task, np.ndarray]:
    """Generate the `per` complex vectors (per, length) of one task."""
    ss = _task_seeds(cfg, task)
    src_seed, chan_seed, cut_seed = (int(s) for s in ss.generate_state(3, dtype=np.uint32))
    per_burst, skip, burst_len = burst_plan(task.length)
    n_bursts = -(-cfg.per // per_burst)
    warmup = 16 * task.sps + 512  # the source's filters and the channel fill up

    tb = gr.top_block("amc dataset task", catch_exceptions=False)
    # Audio just long enough for the task (it loops), so that short tasks stay cheap.
    seconds = min(4.0, (warmup + n_bursts * burst_len) / waveforms.ANALOG_RATE + 0.05)
    src = modulation_source(task.modulation, task.sps, cfg.rolloff, src_seed, seconds)
    skip_head = blocks.skiphead(gr.sizeof_gr_complex, warmup)
    head = blocks.head(gr.sizeof_gr_complex, n_bursts * burst_len)
    sink = blocks.vector_sink_c(1, n_bursts * burst_len)
    # The channel comes after the warm-up, so that its bursts start where the kept stream does.
    channel = make_channel(cfg, task, burst_len, chan_seed)
    chain = [src, skip_head] + ([channel] if channel is not None else [])
    tb.connect(*chain, head, sink)
    tb.run()
    stream = np.asarray(sink.data(), dtype=np.complex64)
    assert len(stream) == n_bursts * burst_len

    # Non-overlapping windows at random gaps after each burst's skipped start.
    rng = np.random.default_rng(cut_seed)
    starts = []
    for b in range(n_bursts):
        gaps = rng.integers(0, task.length // 4 + 1, per_burst)
        offs = skip + np.cumsum(gaps) + np.arange(per_burst) * task.length
        starts.extend(b * burst_len + offs)
    starts = np.asarray(starts[: cfg.per])
    windows = stream[starts[:, None] + np.arange(task.length)[None, :]]
    return task, windows


def to_vectors(cfg: Config, windows: np.ndarray, layout: str) -> np.ndarray:
    """Normalise complex windows and lay them out as float32 (n, 2, L) or (n, L, 2)."""
    spec = features.VectorSpec(windows.shape[1], "iq", layout, cfg.stored_normalization)
    vectors, _ = features.transform(windows, spec)
    return vectors


def attributes(cfg: Config, preset: str | None) -> dict:
    return {
        "classes": list(cfg.classes),
        "sps": list(cfg.sps),
        "lengths": list(cfg.lengths),
        "snrs": list(cfg.label_snrs),
        "per": cfg.per,
        "snr_definition": COMPAT_SNR_DEFINITION if cfg.compat else SNR_DEFINITION,
        "seed": cfg.seed,
        "channel": cfg.channel,
        "compat": cfg.compat,
        "normalization": cfg.stored_normalization,
        "rolloff": cfg.rolloff,
        "preset": preset or "",
        "generator": f"gr-amc {__version__}",
    }


def _results(cfg: Config, jobs: int) -> Iterator[tuple[Task, np.ndarray]]:
    """Task results in file order, at most 2 * jobs tasks in flight."""
    tasks = cfg.tasks()
    if jobs <= 1:
        for t in tasks:
            yield run_task(cfg, t)
        return
    pool = cf.ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init)
    try:
        pending = []
        it = iter(tasks)
        for t in it:
            pending.append(pool.submit(run_task, cfg, t))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            yield pending.pop(0).result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(run_task, cfg, nxt))
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM) or failed: no worker may outlive the run
        workers = list((getattr(pool, "_processes", None) or {}).values())
        for p in workers:
            p.terminate()
        for p in workers:
            p.join(timeout=10)  # reaped here, not left to whoever adopts them
        # Not shutdown(wait=True): its queue feeder may block for ever on a pipe whose reader
        # was just terminated (seen as a hang after SIGTERM); the executor is abandoned instead.
        queue = getattr(pool, "_call_queue", None)
        if queue is not None:
            queue.cancel_join_thread()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _worker_init():
    """Workers leave interrupts to the parent, which ends them (a terminal's Ctrl-C reaches
    the whole process group: a worker must not die mid-task with a traceback of its own)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def generate(
    cfg: Config,
    out: str,
    fmt: str,
    jobs: int = 1,
    force: bool = False,
    preset: str | None = None,
    quiet=False,
) -> dict:
    """Generate the dataset of `cfg` into `out` (written atomically); returns a summary."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of: {', '.join(FORMATS)}")
    if fmt == "pickle" and (len(cfg.sps) > 1 or len(cfg.lengths) > 1):
        raise ValueError("format pickle holds one sps and one length (RML2016 layout); use --format hdf5")
    if jobs < 1:
        raise ValueError(f"jobs {jobs} must be >= 1")
    check_output(out, force)
    tasks = cfg.tasks()
    progress = None if quiet else Progress(len(tasks), "generating")
    t0 = time.monotonic()
    results = _results(cfg, jobs)
    try:
        with terminate_as_interrupt(), AtomicFile(out) as tmp:
            writer = _write_pickle if fmt == "pickle" else _write_hdf5
            count = writer(cfg, tmp, results, progress, preset)
    finally:
        results.close()  # ends the workers now, not when the traceback is collected
    seconds = time.monotonic() - t0
    return {
        "path": out,
        "format": fmt,
        "vectors": count,
        "tasks": len(tasks),
        "seconds": seconds,
        "vectors_per_second": count / seconds if seconds else float("inf"),
        "sha256": file_sha256(out),
    }


def _write_pickle(cfg, tmp, results, progress, preset) -> int:
    data, count = {}, 0
    for task, windows in results:
        data[(task.modulation, task.snr)] = to_vectors(cfg, windows, "channels_first")
        count += len(windows)
        if progress:
            progress.step()
    with open(tmp, "wb") as f:
        pickle.dump(data, f, protocol=4)
    return count


class Hdf5Vectors:
    """The RML2018.01a datasets (X, Y, Z) of one vector length in an HDF5 group, with
    per-vector sps, Es/N0 and per-sample SNR beside them; rows are filled in order."""

    def __init__(self, group, rows: int, length: int, n_classes: int):
        opts = {"track_times": False}  # see _write_hdf5
        chunk = (max(1, min(256, rows)), length, 2)
        self.x = group.create_dataset("X", (rows, length, 2), "float32", chunks=chunk, **opts)
        self.y = group.create_dataset("Y", (rows, n_classes), "int64", **opts)
        self.z = group.create_dataset("Z", (rows, 1), "int64", **opts)
        self.sps = group.create_dataset("sps", (rows,), "int64", **opts)
        self.esn0 = group.create_dataset("esn0_db", (rows,), "float32", **opts)
        self.snr = group.create_dataset("snr_db", (rows,), "float32", **opts)
        self.rows, self.pos = rows, 0

    def append(
        self, vectors: np.ndarray, class_index: int, label: int, sps: int, snr_db: float, esn0_db: float
    ):
        """Write (n, length, 2) float32 vectors of one class and SNR label."""
        a, b = self.pos, self.pos + len(vectors)
        self.x[a:b] = vectors
        onehot = np.zeros((len(vectors), self.y.shape[1]), np.int64)
        onehot[:, class_index] = 1
        self.y[a:b] = onehot
        self.z[a:b] = label
        self.sps[a:b] = sps
        self.esn0[a:b] = esn0_db
        self.snr[a:b] = snr_db
        self.pos = b


def _untimed_group(parent, name: str):
    import h5py

    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl))


def _write_hdf5(cfg, tmp, results: Iterable, progress, preset) -> int:
    import h5py  # not on Debian's python3: only for HDF5 files

    rows = cfg.per * len(cfg.classes) * len(cfg.label_snrs) * len(cfg.sps)
    count = 0
    # No timestamps in any object header (the root group's included): the same data gives the
    # same bytes. h5py.File cannot say so for the root group; its creation property list can.
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_V110, h5py.h5f.LIBVER_LATEST)
    fid = h5py.h5f.create(str(tmp).encode(), h5py.h5f.ACC_TRUNC, fapl=fapl, fcpl=fcpl)
    with h5py.File(fid) as f:
        for k, v in attributes(cfg, preset).items():
            f.attrs[k] = v
        single = len(cfg.lengths) == 1
        out = {
            n: Hdf5Vectors(f if single else _untimed_group(f, f"L{n}"), rows, n, len(cfg.classes))
            for n in cfg.lengths
        }
        for task, windows in results:
            snr_db, esn0_db = nominal_snrs(cfg, task)
            out[task.length].append(
                to_vectors(cfg, windows, "channels_last"),
                cfg.classes.index(task.modulation),
                task.snr,
                task.sps,
                snr_db,
                esn0_db,
            )
            count += len(windows)
            if progress:
                progress.step()
    return count
