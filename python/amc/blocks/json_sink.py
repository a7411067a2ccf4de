# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.json_sink: decision and classification messages as JSON lines."""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pmt
from gnuradio import gr


def to_jsonable(msg):
    """A PMT message (dict, pair or scalar) as plain JSON-ready Python values."""
    value = pmt.to_python(msg)

    def clean(v):
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.ndarray):
            return [round(float(x), 6) for x in v.ravel()]
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v) if np.isfinite(v) else None
        return v

    return clean(value)


class json_sink(gr.basic_block):
    """Writes every message on port `in` as one JSON object per line to `path`
    ("-": standard output), flushed per line so a reader sees decisions at once.
    With `append` False an existing file is replaced when the flowgraph starts.

    A dict message gets `time` (seconds since 1970) where it has none, from the host
    clock when the line is written, and `time_source` says which: "rx_time" (the
    message's own, from the SDR's rx_time) or "host"; `model` (a bundle name), when
    given, is added to every dict."""

    def __init__(self, path: str = "-", append: bool = True, model: str = ""):
        gr.basic_block.__init__(self, "amc_json_sink", None, None)
        if path != "-" and os.path.isdir(path):
            raise ValueError(f"path {path} is a directory")
        parent = os.path.dirname(os.path.abspath(path)) if path != "-" else "."
        if not os.path.isdir(parent):
            raise ValueError(f"path {path}: directory {parent} does not exist")
        self.path, self.append, self.model = path, append, str(model)
        self.count = 0
        self._file = None
        self.message_port_register_in(pmt.intern("in"))
        self.set_msg_handler(pmt.intern("in"), self._on_message)

    def start(self):
        if self.path == "-":
            self._file = sys.stdout
        else:
            self._file = open(self.path, "a" if self.append else "w", encoding="utf-8")  # noqa: SIM115
        return True

    def stop(self):
        if self._file is not None and self._file is not sys.stdout:
            self._file.close()
        self._file = None
        return True

    def _on_message(self, msg):
        if self._file is None:
            return
        value = to_jsonable(msg)
        if isinstance(value, dict):
            value["time_source"] = "rx_time" if "time" in value else "host"
            value.setdefault("time", round(time.time(), 6))
            if self.model:
                value.setdefault("model", self.model)
        try:
            line = json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError) as e:  # a message JSON cannot hold: say so, keep going
            self.logger.warn(f"message not written as JSON: {e}")
            return
        self._file.write(line + "\n")
        self._file.flush()
        self.count += 1
