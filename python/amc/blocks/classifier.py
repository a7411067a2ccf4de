# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.classifier: runs a frozen model bundle on the vectorizer's vectors."""

from __future__ import annotations

import time

import numpy as np
import pmt
from gnuradio import gr

from ..runtime import bundle as bundles
from ..runtime import features
from ..runtime.features import NONFINITE, SILENT, UNNORMALIZED

OUTPUTS = ("probabilities", "index", "both", "messages")
PORT = "classification"
TAG = "amc_class"
# Why a window was not classified; its output is zeros / index -1, tagged amc_flag.
DROPPED = "dropped"
MISMATCH = "mismatch"  # vectors of another window or representation than the model's
OTHER = "flagged"  # an amc_flag value of another block: not classified, counted apart
SETTLING = "settling"  # a window that starts within the filters' transient after a start or retune
LOG_INTERVAL = 5.0  # seconds between drop reports in the log
# Message keys, interned once: the block builds a dict per window.
KEYS = {
    k: pmt.intern(k) for k in ("label", "index", "confidence", "probabilities", "offset", "time", "model")
}


class classifier(gr.sync_block):
    """Classifies every vector of an amc.vectorizer with a frozen model bundle.

    model: a bundle directory, the name of a shipped bundle, or "default".
    window, representation, layout, normalization: the vectorizer's parameters;
        the bundle must have been trained on them (checked at construction).
    outputs: "probabilities" (one float vector of class probabilities per window),
        "index" (int32 class index, -1 for windows not classified), "both", or
        "messages" (no stream output: a sink).
    backend: "litert" (the bundle's frozen flatbuffers) or "tensorflow" (its Keras
        model). threads: threads of the model runtime.
    max_backlog: when more windows than this wait at one call, the oldest excess
        are dropped (output as zeros, tagged amc_flag = "dropped", counted), so a
        live source is never held back; 0 never drops. The backlog can only grow
        to the size of the buffer in front of this block (the vectorizer's output
        buffer), which bounds memory.
    samp_rate: input sample rate, to time windows from an rx_time tag; an rx_rate
        tag (the rate a source really runs at) takes precedence once seen and is
        logged where it differs (time_rate() says which is used); 0 leaves the
        time out unless rx_rate is seen.
    tags: put an amc_class tag on every output item.
    settle: samples (at the vectorizer's input) that the filters in front need to
        settle after a start, an rx_time tag (a restart, or lost samples) or an rx_freq
        tag (a retune): windows starting within them hold the filters' transient and
        are flagged amc_flag = "settling", not classified (0: none). An amc_retune tag
        (amc.normalizer's new setting) brings its own settle and rate.

    All windows waiting at a call go to the model together (in chunks of the
    bundle's batch), never one model call per window. The input is checked as the
    vectorizer checks samples: windows tagged amc_flag, non-finite vectors, all-zero
    vectors (silent) and vectors no vectorizer with the model's normalization could
    have made (a vector of 1e30 for a unit-power model; counted as mismatched) are
    not classified: they are output as zeros / -1, keep or get a flag, and are
    counted. Every window is accounted for:
        windows() == classified() + nonfinite() + silent() + dropped()
                     + mismatched() + other_flagged() + settling()
    """

    def __init__(
        self,
        model: str = "default",
        window: int = 128,
        representation: str = "iq",
        layout: str = "channels_last",
        normalization: str = "rms",
        outputs: str = "probabilities",
        backend: str = "litert",
        threads: int = 1,
        max_backlog: int = 0,
        samp_rate: float = 0.0,
        tags: bool = True,
        settle: int = 0,
    ):
        if outputs not in OUTPUTS:
            raise ValueError(f"outputs {outputs!r} is not one of: {', '.join(OUTPUTS)}")
        if not bundles.is_int(threads) or threads < 1:
            raise ValueError(f"threads {threads!r} must be an integer >= 1")
        if not bundles.is_int(max_backlog) or max_backlog < 0:
            raise ValueError(f"max_backlog {max_backlog!r} must be an integer >= 0 (0: never drop)")
        if not bundles.is_rate(samp_rate):
            raise ValueError(f"samp_rate {samp_rate!r} must be a finite number >= 0 (0: unknown)")
        if not bundles.is_int(settle) or settle < 0:
            raise ValueError(f"settle {settle!r} must be an integer >= 0 (samples; 0: none)")
        threads, max_backlog = int(threads), int(max_backlog)
        self.bundle = bundles.load(model)
        self.bundle.check_input(window, representation, layout, normalization)
        spec = self.bundle.spec(window)
        self.classes = list(self.bundle.classes)
        n_cls = len(self.classes)
        out_sig = {
            "probabilities": [(np.float32, n_cls)],
            "index": [np.int32],
            "both": [(np.float32, n_cls), np.int32],
            "messages": None,
        }[outputs]
        gr.sync_block.__init__(self, "amc_classifier", in_sig=[(np.float32, spec.vlen)], out_sig=out_sig)
        self.runner = self.bundle.runner(window, threads, backend)
        self.outputs, self.max_backlog, self.tags, self.samp_rate = outputs, max_backlog, tags, samp_rate
        self._tag_rate = None  # from rx_rate tags: what the source says it runs at
        self.settle = int(settle)
        self._settle_until = self.settle  # windows starting before this are transients
        self.spec = spec
        self.model_name = self.bundle.name
        self.logger.info(f"model {self.bundle.name} from {self.bundle.path}, window {window}")
        self.port = pmt.intern(PORT)
        self.message_port_register_out(self.port)
        self._tag_key, self._flag_key = pmt.intern(TAG), pmt.intern("amc_flag")
        self._labels = [pmt.intern(c) for c in self.classes]
        self._model_pmt = pmt.intern(self.model_name)
        self._time_ref = None  # (window offset, seconds) from the last rx_time
        self._last_log = -np.inf
        counters = ("windows", "classified", NONFINITE, SILENT, DROPPED, MISMATCH, OTHER, SETTLING)
        self._counts = dict.fromkeys(counters, 0)
        self._warned_unnormalized = False
        self._expected = {"window": window, "representation": representation, "layout": layout,
                          "normalization": normalization}  # fmt: skip
        self._mismatch = None  # what the vectorizer's amc_spec says differs
        self._model_seconds = 0.0

    # ------------------------------------------------------------------ counters
    def windows(self) -> int:
        """Windows (input vectors) seen."""
        return self._counts["windows"]

    def classified(self) -> int:
        return self._counts["classified"]

    def nonfinite(self) -> int:
        """Windows with NaN/Inf samples (flagged by the vectorizer or found here)."""
        return self._counts[NONFINITE]

    def silent(self) -> int:
        return self._counts[SILENT]

    def dropped(self) -> int:
        """Windows dropped because more than max_backlog were waiting."""
        return self._counts[DROPPED]

    def mismatched(self) -> int:
        """Windows refused because the vectorizer's amc_spec differs from the model's, or
        because the vector is not normalized as the model's vectorizer would make it."""
        return self._counts[MISMATCH]

    def other_flagged(self) -> int:
        """Windows carrying an amc_flag of another block (not the vectorizer's or this one's)."""
        return self._counts[OTHER]

    def settling(self) -> int:
        """Windows not classified because they start within the filters' transient."""
        return self._counts[SETTLING]

    def time_rate(self) -> float:
        """The sample rate that times windows: the last rx_rate tag's, else samp_rate."""
        return self._tag_rate if self._tag_rate is not None else self.samp_rate

    def model_seconds(self) -> float:
        """Seconds spent in the model runtime."""
        return self._model_seconds

    # ------------------------------------------------------------------ work
    def _read_tags(self, n: int, base: int):
        """Window offsets (from amc_window, else the item number) and vectorizer flags."""
        offsets = base + np.arange(n, dtype=np.uint64)
        flags, rx_time, restarts = {}, None, []
        for t in self.get_tags_in_window(0, 0, n):
            key = pmt.symbol_to_string(t.key)
            i = t.offset - base
            if key == "amc_window":
                offsets[i] = pmt.to_uint64(t.value)
            elif key == "amc_flag":
                flags[i] = pmt.symbol_to_string(t.value)
            elif key == "amc_spec":
                self._check_spec(pmt.to_python(t.value))
            elif key == "rx_rate":
                rate = pmt.to_double(t.value)
                if rate != self._tag_rate and self.samp_rate and rate != self.samp_rate:
                    self.logger.warn(f"rx_rate tag says {rate:g} samples/s, samp_rate is {self.samp_rate:g}: "
                                     "windows are timed at the tag's rate")  # fmt: skip
                self._tag_rate = rate
            elif key == "rx_freq":
                restarts.append((i, self.settle))
            elif key == "amc_retune":  # amc.normalizer's new setting: a new rate, new filters
                d = pmt.to_python(t.value)
                if self._time_ref is not None:  # the time so far at the old rate, then the new one
                    self._time_ref = (float(offsets[i]), self._time_of(offsets[i]))
                self._tag_rate = float(d.get("rate") or 0.0) or self._tag_rate
                restarts.append((i, max(self.settle, int(d.get("settle", 0)))))
            elif key == "rx_time":
                restarts.append((i, self.settle))
                secs = pmt.to_uint64(pmt.tuple_ref(t.value, 0)) + pmt.to_double(pmt.tuple_ref(t.value, 1))
                rx_time = (i, secs)
        if rx_time is not None:
            # the vectorizer moved rx_time to the window starting at most a hop before
            # it: that window's start is the reference (exact for a tag on a window start)
            self._time_ref = (float(offsets[rx_time[0]]), rx_time[1])
        if self.settle or restarts:
            self._flag_settling(offsets, flags, restarts)
        return offsets, flags

    def _flag_settling(self, offsets, flags, restarts):
        """Windows that start within `settle` samples of a start or restart."""
        restarts = sorted(restarts)  # (window, samples to settle)
        for i in range(len(offsets)):
            while restarts and restarts[0][0] <= i:
                at, samples = restarts.pop(0)
                self._settle_until = int(offsets[at]) + samples
            if int(offsets[i]) >= self._settle_until and not restarts:
                break  # past the transient, and no restart further on in this call
            if int(offsets[i]) < self._settle_until:
                flags.setdefault(i, SETTLING)

    def _check_spec(self, spec):
        if not isinstance(spec, dict):
            return
        wrong = [
            f"{k} {spec[k]!r} (model: {v!r})" for k, v in self._expected.items() if k in spec and spec[k] != v
        ]
        self._mismatch = ", ".join(wrong) or None
        if self._mismatch:
            self.logger.error(
                f"the vectorizer makes vectors with {self._mismatch}: they are not classified "
                "(counted as mismatched); give the vectorizer the model's parameters"
            )

    def _check_vectors(self, x, valid, flags):
        """Vectors not flagged upstream that no vectorizer of the model's spec makes:
        non-finite, all zeros, or not normalized (features.check_vectors)."""
        rows = np.flatnonzero(valid)
        if not len(rows):
            return
        found = features.check_vectors(x[rows], self.spec)
        bad = found != features.OK  # the rare ones: no Python loop over every window
        for i, why in zip(rows[bad], found[bad], strict=True):
            why = MISMATCH if why == UNNORMALIZED else why
            flags[int(i)] = why
            valid[i] = False
            self._counts[why] += 1
            if why == MISMATCH and not self._warned_unnormalized:
                self._warned_unnormalized = True
                self.logger.error(f"input vectors are not {self.spec.normalization}-normalized as model "
                                  f"{self.model_name} expects: not classified (counted as mismatched); "
                                  "feed the classifier from an amc.vectorizer")  # fmt: skip

    def _log_drops(self, count: int):
        now = time.monotonic()
        if now - self._last_log >= LOG_INTERVAL:
            self._last_log = now
            self.logger.warn(
                f"classifier behind its input: dropped {count} windows ({self.dropped()} in all); "
                "raise threads, decimate with the vectorizer's hop, or use a lighter model"
            )

    def work(self, input_items, output_items):
        x = input_items[0]
        n = len(x)
        base = self.nitems_read(0)
        offsets, flags = self._read_tags(n, base)
        self._counts["windows"] += n

        valid = np.ones(n, bool)
        # tags that propagate by themselves (the ones this block sets get tagged in _annotate)
        upstream = {i for i, why in flags.items() if why not in (MISMATCH, SETTLING)}
        if self._mismatch:
            flags, upstream = {i: MISMATCH for i in range(n)}, set()
        for i, why in flags.items():
            valid[i] = False
            self._counts[why if why in (NONFINITE, SILENT, MISMATCH, DROPPED, SETTLING) else OTHER] += 1
        self._check_vectors(x, valid, flags)
        if self.max_backlog and n > self.max_backlog:
            newly = np.flatnonzero(valid[: n - self.max_backlog])
            self._counts[DROPPED] += len(newly)
            for i in newly:
                flags[int(i)] = DROPPED
            valid[newly] = False
            if len(newly):
                self._log_drops(len(newly))

        probs = np.zeros((n, len(self.classes)), np.float32)
        rows = np.flatnonzero(valid)
        if len(rows):
            t0 = time.perf_counter()
            try:
                probs[rows] = self.runner.predict(x[rows])
            except Exception as e:  # a runtime failure must not stop the flowgraph
                self.logger.error(f"model failed on {len(rows)} windows, counted as dropped: {e}")
                self._counts[DROPPED] += len(rows)
                for i in rows:
                    flags[int(i)] = DROPPED
                valid[rows] = False
                rows = rows[:0]
            self._model_seconds += time.perf_counter() - t0
            self._counts["classified"] += len(rows)
        index = np.where(valid, probs.argmax(axis=1), -1).astype(np.int32)

        if self.outputs in ("probabilities", "both"):
            output_items[0][:] = probs
        if self.outputs in ("index", "both"):
            output_items[-1][:] = index
        self._annotate(n, base, offsets, flags, upstream, probs, index, rows)
        return n

    def _time_of(self, offset: int):
        rate = self.time_rate()
        if self._time_ref is None or not rate:
            return None
        return self._time_ref[1] + (float(offset) - self._time_ref[0]) / rate

    def _annotate(self, n, base, offsets, flags, upstream, probs, index, rows):
        """amc_class tags, the flags this block set, and the classification messages."""
        outputs = 0 if self.outputs == "messages" else (2 if self.outputs == "both" else 1)
        for i, why in flags.items():
            if i not in upstream:
                for port in range(outputs):
                    self.add_item_tag(port, base + i, self._flag_key, pmt.intern(why))
        send = pmt.length(self.message_subscribers(self.port)) > 0
        if send:  # windows not classified are reported too, as what they were
            for i, why in flags.items():
                d = self._describe(pmt.intern(why), -1, 0.0, None, int(offsets[i]))
                self.message_port_pub(self.port, self._for_message(d, int(offsets[i])))
        if not (send or (self.tags and outputs)):
            return
        conf = probs.max(axis=1)
        for i in rows:
            i, offset = int(i), int(offsets[i])
            d = self._describe(self._labels[index[i]], int(index[i]), float(conf[i]), probs[i], offset)
            if self.tags:
                for port in range(outputs):
                    self.add_item_tag(port, base + i, self._tag_key, d)
            if send:
                self.message_port_pub(self.port, self._for_message(d, offset))

    @staticmethod
    def _describe(label, index: int, confidence: float, probs, offset: int):
        d = pmt.make_dict()
        d = pmt.dict_add(d, KEYS["label"], label)
        d = pmt.dict_add(d, KEYS["index"], pmt.from_long(index))
        d = pmt.dict_add(d, KEYS["confidence"], pmt.from_double(confidence))
        if probs is not None:
            d = pmt.dict_add(d, KEYS["probabilities"], pmt.init_f32vector(len(probs), probs))
        return pmt.dict_add(d, KEYS["offset"], pmt.from_uint64(offset))

    def _for_message(self, d, offset: int):
        """The tag's dict plus the window's time (when known) and the model name."""
        t = self._time_of(offset)
        if t is not None:
            d = pmt.dict_add(d, KEYS["time"], pmt.from_double(t))
        return pmt.dict_add(d, KEYS["model"], self._model_pmt)


def classify_windows(runner, classes, spec, samples: np.ndarray, hop: int | None = None, progress=None):
    """Offline twin of the block (amc classify): the windows of a complex stream (or
    pre-cut windows, one per row) through the vectorizer's numpy reference and the
    same bundle runner. Returns (starts, labels, confidence, probabilities); windows
    the vectorizer flags are labelled nonfinite or silent, with confidence 0.
    progress(n) is called as each chunk of n windows is done."""
    if samples.ndim == 2:
        if samples.shape[1] != spec.window:
            raise ValueError(f"windows of {samples.shape[1]} samples; the model takes {spec.window}")
        vectors, flags = features.transform(samples, spec)
        starts = np.arange(len(samples)) * spec.window
    else:
        vectors, flags, starts = features.vectorize(samples, spec, hop or spec.window)
    ok = flags == features.OK
    probs = np.zeros((len(vectors), len(classes)), np.float32)
    rows = np.flatnonzero(ok)
    chunk = 8192
    for i in range(0, len(vectors), chunk):
        part = rows[np.searchsorted(rows, i) : np.searchsorted(rows, i + chunk)]
        if len(part):
            probs[part] = runner.predict(vectors[part])
        if progress:
            progress(min(chunk, len(vectors) - i))
    best = probs.argmax(axis=1)
    labels = [classes[b] if good else str(f) for b, good, f in zip(best, ok, flags, strict=True)]
    return starts, labels, np.where(ok, probs.max(axis=1), 0.0), probs
