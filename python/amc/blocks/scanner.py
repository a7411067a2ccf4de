# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.scanner: every signal of a band found, cut out, estimated and classified while the
flowgraph runs (GRC: AMC Scanner); amc.scan_lanes: its classifying half."""

from __future__ import annotations

import json
import os
import queue
import threading

import numpy as np
import pmt
from gnuradio import gr

from ..amc_python import channel_detector
from ..runtime import bundle as bundles
from . import offline

REPORTS, SIGNALS = pmt.intern("reports"), pmt.intern("signals")
RX_FREQ = pmt.intern("rx_freq")
CHANNEL_SAMPLES = 1 << 17  # a signal's samples after channelising that a classification looks at (at most)
# what a report copies from the detector's description of a signal
DETECTED = ("id", "center_hz", "bandwidth_hz", "occupied_hz", "snr_db", "power_db", "first_seen", "last_seen")


class scan_lanes(gr.sync_block):
    """The classifying half of amc.scanner: keeps the last `span` seconds of the band; on each
    list of amc.channel_detector (port signals), cuts up to `lanes` of the listed signals out
    of it (GNU Radio's freq_xlating_fir_filter_ccc), runs the blind front end, the model and
    the decision on each (blocks.offline.classify_signal) in a worker thread, and publishes one
    report per listed signal on port reports. Signals beyond the lane budget take turns (the
    longest unclassified first) and are reported as detected but unclassified meanwhile; a list
    that arrives while the worker is still busy is reported the same way: no signal is
    silently left out. A signal's decision is the label it has held on the most windows over
    its reports; its end (the detector's end event) is reported with that decision.

    Reports (dicts; PMT on port reports): event "report" or "end", the detector's id,
    center_hz, bandwidth_hz, occupied_hz, snr_db, power_db, first_seen, last_seen, then
    status ("classified" or "unclassified", with why), label and confidence of this span,
    windows, decision and decision_share, symbol_rate_hz, cfo_hz and kind from the estimator,
    stream_time (s). With json_path each is also a JSON line there (replaced at start),
    written by the worker itself: the reports of the last list still reach the file when the
    stream ends, where messages to a stopping flowgraph may not. latest(): the last report of
    every signal so far.
    """

    def __init__(self, model="default", samp_rate=10e6, center_freq=0.0, span=0.25, lanes=4, k=8, threads=1,
                 json_path=""):  # fmt: skip
        gr.sync_block.__init__(self, "amc_scan_lanes", in_sig=[np.complex64], out_sig=None)
        if not (np.isfinite(samp_rate) and samp_rate > 0):
            raise ValueError(f"samp_rate {samp_rate} must be > 0 (Hz)")
        if not np.isfinite(center_freq):
            raise ValueError(f"center_freq {center_freq} must be a finite frequency (Hz)")
        if not (np.isfinite(span) and span > 0) or span * samp_rate < 4096:
            raise ValueError(f"span {span} must be > 0 s and hold at least 4096 samples at samp_rate")
        for name, value in (("lanes", lanes), ("k", k), ("threads", threads)):
            if int(value) != value or value < 1:
                raise ValueError(f"{name} {value} must be an integer >= 1")
        if json_path and (
            os.path.isdir(json_path) or not os.path.isdir(os.path.dirname(os.path.abspath(json_path)))
        ):
            raise ValueError(f"json_path {json_path} must be a file in an existing directory")
        self.bundle = bundles.load(model)
        self.rate, self.center = float(samp_rate), float(center_freq)
        self.span, self.lanes, self.k, self.threads = int(span * samp_rate), int(lanes), int(k), int(threads)
        self.json_path = json_path
        # room for the span and for how far the stream may run ahead of the detector's list
        self._ring = np.zeros(self.span + (1 << 20), np.complex64)
        self._written = 0  # samples seen (absolute, as the detector counts them)
        self._band_start = 0  # first sample of the current band (a retune starts a new one)
        self._pending = None  # a list waiting for its samples to arrive
        # the worker's queue, in order: ("list", jobs, time), ("say", report), ("end", signal), None
        self._queue: queue.Queue = queue.Queue()
        self._busy = threading.Semaphore(1)  # one list in the worker at a time
        self._last_turn: dict[int, int] = {}  # id -> list number it was last classified in
        self._lists = 0
        # the worker's alone
        self._history: dict[int, dict[str, int]] = {}  # id -> windows per decided label
        self._latest: dict[int, dict] = {}
        self._latest_lock = threading.Lock()  # latest() reads it from other threads
        self._classified: dict[int, dict] = {}  # id -> its last classified report
        self._worker = None
        self._file = None
        self.message_port_register_in(SIGNALS)
        self.set_msg_handler(SIGNALS, self._on_signals)
        self.message_port_register_out(REPORTS)

    def latest(self) -> list[dict]:
        """The last report of every signal seen (ended ones included), by id."""
        with self._latest_lock:
            return [dict(self._latest[i]) for i in sorted(self._latest)]

    # the flowgraph's thread: samples into the ring, lists into jobs
    def work(self, input_items, output_items):
        x = input_items[0]
        start = self.nitems_read(0)
        for tag in self.get_tags_in_window(0, 0, len(x), RX_FREQ):
            self.center, self._band_start = pmt.to_double(tag.value), tag.offset
        n, size = len(x), len(self._ring)
        at = self._written % size
        first = min(n, size - at)
        self._ring[at : at + first] = x[:first]
        self._ring[: n - first] = x[first:]
        self._written = start + n
        if self._pending is not None and self._written >= self._pending[1]:
            self._submit(*self._pending)
        return n

    def _on_signals(self, msg):
        d = pmt.to_python(msg)
        if not isinstance(d, dict):
            return
        if d.get("event") == "end":
            self._last_turn.pop(int(d["id"]), None)
            self._queue.put(("end", d))
        elif d.get("event") == "list" and d.get("signals"):
            listed = [s for s in d["signals"] if isinstance(s, dict)]
            need = max(int(s["last_sample"]) for s in listed)
            if self._pending is not None:  # the one before never got its samples: say so
                self._say(self._pending[0], "the stream stopped before its samples arrived", self._pending[2])
            self._pending = (listed, need, float(d.get("time", 0.0)))
            if self._written >= need:
                self._submit(*self._pending)

    def _submit(self, listed, need, when):
        self._pending = None
        if not self._busy.acquire(blocking=False):
            self._say(listed, "the lanes were still busy with the last list", when)
            return
        self._lists += 1
        order = sorted(listed, key=lambda s: self._last_turn.get(int(s["id"]), -1))
        chosen, left = order[: self.lanes], order[self.lanes :]
        jobs = []
        for s in chosen:
            last = min(int(s["last_sample"]), self._written)
            oldest = self._written - len(self._ring)
            # no more of the band than gives the estimator its longest span once decimated
            most = min(
                self.span,
                CHANNEL_SAMPLES * offline.decimation(self.rate, s["bandwidth_hz"], s["occupied_hz"]),
            )
            first = max(int(s["first_sample"]), self._band_start, last - most, oldest)
            jobs.append((s, self._take(first, last), self.center))
            self._last_turn[int(s["id"])] = self._lists
        self._say(left, f"over the lane budget ({self.lanes} a list): classified in turn", when)
        self._queue.put(("list", jobs, when))

    def _say(self, listed, why: str, when: float) -> None:
        for s in listed:
            self._queue.put(("say", s, {"status": "unclassified", "why": why}, when))

    def _take(self, first: int, last: int) -> np.ndarray:
        return self._ring[np.arange(first, last) % len(self._ring)]

    # the worker thread: channelise, estimate, classify, report
    def start(self):
        self._file = open(self.json_path, "w", encoding="utf-8") if self.json_path else None  # noqa: SIM115
        self._worker = threading.Thread(target=self._run, name="amc_scan_lanes", daemon=True)
        self._worker.start()
        return True

    def stop(self):
        if self._worker is not None:
            self._queue.put(None)  # after what is queued
            self._worker.join(timeout=60)
            self._worker = None
        if self._file is not None:
            self._file.close()
            self._file = None
        return True

    def _run(self):
        while (item := self._queue.get()) is not None:
            if item[0] == "end":
                self._publish("end", item[1], {}, float(item[1].get("last_seen", 0.0)))
                self._history.pop(int(item[1]["id"]), None)
            elif item[0] == "say":
                self._publish("report", *item[1:])
            else:
                _, jobs, when = item
                for s, samples, center in jobs:
                    try:
                        result = self._classify(s, samples, center)
                    except Exception as e:  # noqa: BLE001 (one bad span must not stop the scanner)
                        self.logger.error(f"signal {s.get('id')}: {e}")
                        result = {"status": "unclassified", "why": f"failed: {e}"}
                    self._publish("report", s, result, when)
                self._busy.release()

    def _classify(self, s: dict, samples: np.ndarray, center: float) -> dict:
        if not np.all(np.isfinite(samples)):
            return {"status": "unclassified", "why": "non-finite samples in its span"}
        offset = s["center_hz"] - center
        x, crate = offline.channel(samples, self.rate, offset, s["bandwidth_hz"], s["occupied_hz"])
        c = offline.classify_signal(self.bundle, x, self.k, self.threads)
        e = c.pop("estimate", None)
        out = {"status": "classified" if "windows" in c else "unclassified", **c}
        out.pop("decisions", None)
        if e is not None:
            out["kind"] = e.kind
            if e.symbol_rate:
                out["symbol_rate_hz"] = e.symbol_rate * crate
                out["cfo_hz"] = offset + e.cfo * crate
        if "windows" in c and c["label"] != "unknown":
            seen = self._history.setdefault(int(s["id"]), {})
            seen[c["label"]] = seen.get(c["label"], 0) + int(c["windows"])
        return out

    def _publish(self, event: str, s: dict, result: dict, when: float) -> None:
        ident = int(s["id"])
        d = {"event": event, **{key: s[key] for key in DETECTED if key in s}, **result, "stream_time": when}
        seen = self._history.get(ident)
        best = max(seen, key=seen.get) if seen else "unknown"
        d["decision"], d["decision_share"] = best, (seen[best] / sum(seen.values()) if seen else 0.0)
        if event == "end":  # what was learnt of it (its last classification), with the end's extent
            d = {**self._classified.pop(ident, self._latest.get(ident, {})), **d}
        elif d.get("status") == "classified":
            self._classified[ident] = d
        with self._latest_lock:
            self._latest[ident] = d
        if self._file is not None:
            self._file.write(json.dumps(d, separators=(",", ":")) + "\n")
            self._file.flush()
        self.message_port_pub(REPORTS, to_pmt(d))


def to_pmt(d: dict):
    """A report as a PMT dict: numbers as doubles (ids as integers), text as symbols."""
    out = pmt.make_dict()
    for key, value in d.items():
        if isinstance(value, bool) or value is None:
            v = pmt.from_bool(bool(value)) if value is not None else pmt.PMT_NIL
        elif isinstance(value, (int, np.integer)):
            v = pmt.from_long(int(value))
        elif isinstance(value, (float, np.floating)):
            v = pmt.from_double(float(value))
        else:
            v = pmt.intern(str(value))
        out = pmt.dict_add(out, pmt.intern(key), v)
    return out


class scanner(gr.hier_block2):
    """Complex samples of a band in; a report per signal out (message port reports), and the
    detector's own events (port signals).

    Inside: amc.channel_detector (averaged spectra, noise floor, tracked signals with ids)
    and amc.scan_lanes, which on every list of the detector (each report_interval) cuts up to
    `lanes` signals out of the last `span` seconds, finds their symbol rate and carrier
    blindly, and classifies them with the bundle. A signal over the lane budget is reported
    as detected but unclassified until its turn.

    model: a bundle directory, a shipped name or "default".
    samp_rate (Hz), center_freq (Hz of the band's centre; rx_freq tags retune it).
    fft_size, threshold_db, min_bandwidth (Hz): the detector's.
    report_interval: seconds of stream between reports (the detector's list).
    span: seconds of samples each classification looks at at most (longer: surer, slower;
    a wide signal needs less: no more than CHANNEL_SAMPLES once channelised).
    lanes: signals classified per report; k: windows a decision is smoothed over;
    threads: the model's threads; json_path: also write the reports there as JSON lines
    ("": not), all of them, those of the last list before the stream ends included.
    latest(): the last report of every signal (as dicts).
    """

    def __init__(self, model="default", samp_rate=10e6, center_freq=0.0, fft_size=4096, threshold_db=6.0,
                 min_bandwidth=0.0, report_interval=1.0, span=0.25, lanes=4, k=8, threads=1,
                 json_path=""):  # fmt: skip
        gr.hier_block2.__init__(
            self, "amc_scanner", gr.io_signature(1, 1, gr.sizeof_gr_complex), gr.io_signature(0, 0, 0)
        )
        if not (np.isfinite(report_interval) and report_interval > 0):
            raise ValueError(f"report_interval {report_interval} must be > 0 (s)")
        self.detector = channel_detector(samp_rate, center_freq, fft_size, 8, threshold_db, 2.0,
                                         min_bandwidth, 0.02, 0.05, 2, report_interval, 0.2)  # fmt: skip
        self.lanes = scan_lanes(model, samp_rate, center_freq, span, lanes, k, threads, json_path)
        for port in ("reports", "signals"):
            self.message_port_register_hier_out(port)
        self.connect(self, self.detector)
        self.connect(self, self.lanes)
        self.msg_connect(self.detector, "signals", self.lanes, "signals")
        self.msg_connect(self.lanes, "reports", self, "reports")
        self.msg_connect(self.detector, "signals", self, "signals")

    def latest(self) -> list[dict]:
        return self.lanes.latest()
