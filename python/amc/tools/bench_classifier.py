# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of amc.classifier with a shipped bundle (amc bench classifier).

- throughput: source -> vectorizer -> classifier -> null sink as fast as it runs,
  against the same vectors through Keras model.predict in the same process (its
  default batch of 32, and the block's batch);
- real time: a source paced at a sample rate (1 MS/s by default) for some seconds:
  windows classified per second, sample-to-message latency (from the moment a
  window's last sample left the source to its classification message), windows
  dropped, and resident memory at the start and end (the soak).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pmt
from gnuradio import blocks, gr

from ..amc_python import vectorizer
from ..blocks.classifier import classifier
from ..blocks.modulation_source import modulation_source
from ..datasets.generate import esn0_noise_std
from ..runtime import bundle as bundles
from ..runtime import features


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def test_signal(n: int, sps: int, seed: int = 0) -> np.ndarray:
    """QPSK at `sps` with noise at 20 dB Es/N0: what a live source gives."""
    tb = gr.top_block()
    src = modulation_source("QPSK", sps, seed=seed)
    head = blocks.head(gr.sizeof_gr_complex, n)
    sink = blocks.vector_sink_c()
    tb.connect(src, head, sink)
    tb.run()
    x = np.array(sink.data(), np.complex64)
    rng = np.random.default_rng(seed)
    std = esn0_noise_std(20.0, sps)
    noise = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * (std / np.sqrt(2))
    return (x + noise).astype(np.complex64)


def _chain(b: bundles.Bundle, threads: int, max_backlog: int = 0, outputs: str = "index"):
    i = b.meta["input"]
    n = b.lengths[0]
    vec = vectorizer(n, n, i["representation"], i["layout"], i["normalization"])
    clf = classifier(b.path, n, i["representation"], i["layout"], i["normalization"], outputs=outputs,
                     threads=threads, max_backlog=max_backlog, tags=False)  # fmt: skip
    return vec, clf


def throughput(b: bundles.Bundle, data: np.ndarray, windows: int, threads: int) -> float:
    """Windows/s through source -> vectorizer -> classifier -> null sink."""
    n = b.lengths[0]
    tb = gr.top_block("bench", catch_exceptions=False)
    src = blocks.vector_source_c(data.tolist(), True)
    head = blocks.head(gr.sizeof_gr_complex, windows * n)
    vec, clf = _chain(b, threads)
    vec.set_min_output_buffer(4096)  # lets the classifier take large batches
    tb.connect(src, head, vec, clf, blocks.null_sink(gr.sizeof_int))
    t0 = time.perf_counter()
    tb.run()
    return clf.classified() / (time.perf_counter() - t0)


def keras_rate(b: bundles.Bundle, data: np.ndarray, windows: int, batch_size: int | None) -> float:
    """Windows/s of the bundle's Keras model.predict on the same vectors."""
    model = b.runner(b.lengths[0], backend="tensorflow").model
    vectors, _, _ = features.vectorize(np.resize(data, windows * b.lengths[0]), b.spec(b.lengths[0]))
    model.predict(vectors[:256], verbose=0, batch_size=batch_size)  # build and trace first
    t0 = time.perf_counter()
    model.predict(vectors, verbose=0, batch_size=batch_size)
    return len(vectors) / (time.perf_counter() - t0)


class PacedSource(gr.sync_block):
    """Complex samples at `rate` per second of wall time, in chunks; remembers when
    each chunk left (in arrays allocated up front, so the record does not grow the
    memory the soak measures)."""

    def __init__(self, data: np.ndarray, rate: float, seconds: float, chunk: int = 8192):
        gr.sync_block.__init__(self, "paced_source", None, [np.complex64])
        self.data, self.rate, self.chunk = data, rate, chunk
        self.total = int(rate * seconds)
        self.sent = 0
        self.t0 = None
        size = 4 * (self.total // chunk) + 1024
        self.ends = np.full(size, np.iinfo(np.int64).max, np.int64)  # end offset of each chunk
        self.left = np.zeros(size)  # monotonic time it left
        self.chunks = 0

    def work(self, input_items, output_items):
        if self.sent >= self.total or self.chunks == len(self.ends):
            return -1
        if self.t0 is None:
            self.t0 = time.monotonic()
        due = self.t0 + (self.sent + self.chunk) / self.rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        n = min(self.chunk, len(output_items[0]), self.total - self.sent)
        start = self.sent % len(self.data)
        idx = (start + np.arange(n)) % len(self.data)
        output_items[0][:n] = self.data[idx]
        self.sent += n
        self.ends[self.chunks], self.left[self.chunks] = self.sent, time.monotonic()
        self.chunks += 1
        return n

    def left_at(self, offset: int) -> float:
        """When the sample at `offset` left the source."""
        k = min(int(np.searchsorted(self.ends[: self.chunks], offset, side="right")), self.chunks - 1)
        return float(self.left[k])


class LatencyClock(gr.basic_block):
    """Sample-to-message latency of every classification message after `start`, kept
    as a histogram of 0.1 ms bins (fixed memory, however long the soak)."""

    BIN_S, BINS = 1e-4, 100_000  # up to 10 s
    OFFSET, ZERO = pmt.intern("offset"), pmt.from_uint64(0)

    def __init__(self, source: PacedSource, window: int):
        gr.basic_block.__init__(self, "latency_clock", None, None)
        self.source, self.window = source, window
        self.hist = np.zeros(self.BINS + 1, np.int64)
        self.since = float("inf")  # (not "start": GNU Radio calls block.start())
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._on)

    def _on(self, msg):
        t = time.monotonic()
        if t < self.since:
            return
        offset = pmt.to_uint64(pmt.dict_ref(msg, self.OFFSET, self.ZERO))
        latency = t - self.source.left_at(offset + self.window - 1)
        self.hist[min(self.BINS, max(0, int(latency / self.BIN_S)))] += 1

    def percentile_ms(self, q: float) -> float:
        total = self.hist.sum()
        if not total:
            return float("nan")
        k = int(np.searchsorted(np.cumsum(self.hist), q / 100 * total))
        return 1000 * (k + 1) * self.BIN_S


@dataclasses.dataclass
class RealTime:
    rate: float
    seconds: float
    windows: int
    classified: int
    dropped: int
    windows_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    rss_start_mb: float
    rss_end_mb: float
    rss_samples_mb: list  # every 10 s

    @property
    def rss_growth(self) -> float:
        return self.rss_end_mb / self.rss_start_mb - 1


def real_time(b: bundles.Bundle, data: np.ndarray, rate: float, seconds: float, threads: int,
              warmup: float = 5.0) -> RealTime:  # fmt: skip
    """The chain fed at `rate` samples/s for warmup + seconds; figures after warm-up.
    RSS is sampled every 10 s; the end figure is the last sample."""
    n = b.lengths[0]
    tb = gr.top_block("realtime", catch_exceptions=False)
    src = PacedSource(data, rate, warmup + seconds)
    vec, clf = _chain(b, threads, max_backlog=2048)
    vec.set_min_output_buffer(4096)
    clock = LatencyClock(src, n)
    tb.connect(src, vec, clf, blocks.null_sink(gr.sizeof_int))
    tb.msg_connect(clf, "classification", clock, "in")
    tb.start()
    time.sleep(warmup)
    clock.since = time.monotonic()
    rss0, w0, t0 = rss_mb(), clf.classified(), time.monotonic()
    rss = [rss0]
    while src.sent < src.total and time.monotonic() - t0 < seconds + 60:
        time.sleep(min(10.0, max(0.1, seconds - (time.monotonic() - t0))))
        rss.append(rss_mb())
    tb.wait()
    t1 = time.monotonic()
    return RealTime(rate, t1 - t0, clf.windows(), clf.classified(), clf.dropped(),
                    (clf.classified() - w0) / (t1 - t0), clock.percentile_ms(50), clock.percentile_ms(99),
                    rss0, rss[-1], [round(r, 1) for r in rss])  # fmt: skip
