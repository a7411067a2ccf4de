# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.signal_estimator: blind estimates of the dominant signal of a stream, re-made as it
runs, as stream tags and messages (runtime.estimate behind a GNU Radio block)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pmt
from gnuradio import gr

from ..runtime import bundle as bundles
from ..runtime import estimate as est

PORT = "estimate"
TAGS = ("amc_signal", "amc_symbol_rate", "amc_cfo", "amc_bandwidth", "amc_snr")


class signal_estimator(gr.sync_block):
    """Passes its complex input through unchanged and, every `interval` samples, estimates
    the dominant signal over the last `span` samples (runtime.estimate: kind, carrier
    offset, occupied bandwidth, symbol rate, per-sample SNR), smoothed as the median of the
    last `smooth` symbol rates and carrier offsets of the same kind.

    Each estimate tags the sample where it was made: amc_signal (the kind), amc_symbol_rate,
    amc_cfo and amc_bandwidth (Hz with samp_rate, else cycles per sample), amc_snr (dB), and
    leaves on the message port `estimate` as a dict of the same with the line strength
    (line: the confidence of the symbol rate) and the warnings (two signals, band edge),
    which are also logged once each. Non-finite samples count as silence.

    samp_rate: Hz (0: frequencies in cycles per sample). span: 4096 .. 2^20 samples.
    interval: samples between estimates (0: one second at samp_rate, else 16 spans).
    """

    def __init__(self, samp_rate: float = 0.0, span: int = 65536, interval: int = 0, smooth: int = 3):
        if not bundles.is_rate(samp_rate):
            raise ValueError(f"samp_rate {samp_rate!r} must be a finite number >= 0 (0: cycles/sample)")
        if not bundles.is_int(span) or not est.MIN_SAMPLES <= span <= est.SPAN * 4:
            raise ValueError(f"span {span!r} must be an integer in {est.MIN_SAMPLES} .. {est.SPAN * 4}")
        if not bundles.is_int(interval) or interval < 0:
            raise ValueError(f"interval {interval!r} must be an integer >= 0 (0: automatic)")
        if not bundles.is_int(smooth) or smooth < 1:
            raise ValueError(f"smooth {smooth!r} must be an integer >= 1")
        gr.sync_block.__init__(self, "amc_signal_estimator", in_sig=[np.complex64], out_sig=[np.complex64])
        self.samp_rate, self.span, self.smooth = float(samp_rate), int(span), int(smooth)
        self.interval = int(interval) or (int(samp_rate) if samp_rate else 16 * int(span))
        # the span of samples [next - span, next) that the next estimate looks at
        self._ring = np.zeros(self.span, np.complex64)
        self._next = self.span  # absolute sample at which the next estimate is made
        self._history: list[est.Estimate] = []
        self._warned: set[str] = set()
        self.estimates = 0
        self.port = pmt.intern(PORT)
        self.message_port_register_out(self.port)

    def _keep(self, x: np.ndarray, start: int) -> None:
        """Samples x (the first at absolute `start`) where they fall in the next span."""
        base = self._next - self.span
        lo, hi = max(start, base), min(start + len(x), self._next)
        if lo < hi:
            self._ring[lo - base : hi - base] = x[lo - start : hi - start]

    def _smoothed(self, e: est.Estimate) -> est.Estimate:
        """The median symbol rate and carrier of the last `smooth` estimates of e's kind."""
        self._history = (self._history + [e])[-self.smooth :]
        same = [h for h in self._history if h.kind == e.kind and h.symbol_rate]
        if e.symbol_rate is None or not same:
            return e
        return dataclasses.replace(e, cfo=float(np.median([h.cfo for h in same])),
                                   symbol_rate=float(np.median([h.symbol_rate for h in same])))  # fmt: skip

    def _publish(self, e: est.Estimate, item: int) -> None:
        d = e.as_dict(self.samp_rate or 1.0)
        for warning in e.warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self.logger.warn(warning)
        snr = e.snr_db if math.isfinite(e.snr_db) else -300.0
        numbers = (d["symbol_rate_hz"] or 0.0, d["cfo_hz"], d["bandwidth_hz"], snr)
        values = [pmt.intern(e.kind)] + [pmt.from_double(float(v)) for v in numbers]
        for key, value in zip(TAGS, values, strict=True):
            self.add_item_tag(0, item, pmt.intern(key), value)
        d.update(offset=item, samp_rate=self.samp_rate)
        self.estimates += 1
        self.message_port_pub(self.port, pmt.to_pmt(d))

    def work(self, input_items, output_items):
        x = input_items[0]
        output_items[0][:] = x
        start = self.nitems_read(0)
        self._keep(x, start)
        while start + len(x) >= self._next:  # the span is whole: estimate
            try:
                self._publish(self._smoothed(est.estimate(self._ring)), self._next - 1)
            except Exception as e:  # an estimate that fails must not stop the stream
                self.logger.error(f"estimate at sample {self._next - 1} failed: {e}")
            overlap = self.span - self.interval  # spans overlap when estimates are closer
            if overlap > 0:
                self._ring[:overlap] = self._ring[self.interval :].copy()
            self._next += self.interval
            self._keep(x, start)
        return len(x)
