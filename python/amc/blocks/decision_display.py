# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.decision_display: the current modulation, its confidence and a bar per class,
as a Qt widget for GNU Radio Companion's Qt GUI flowgraphs."""

from __future__ import annotations

import threading

import numpy as np
import pmt
from gnuradio import gr

from ..runtime.atomic import AtomicFile
from ..runtime.estimate import describe


class decision_display(gr.sync_block):
    """Shows the decision (from amc.decision's `decision` messages, or the
    classifier's `classification` messages) in large type with its confidence,
    and the latest probability vector on the stream input as one bar per class.

    The flowgraph threads only store what arrived; a Qt timer in the GUI thread
    redraws every `update_period` seconds. With `snapshot` set, the window is saved
    as PNG to that path `snapshot_after` seconds after start (documentation and
    tests of headless displays); with `exit_after_snapshot` the application then
    quits, which stops the flowgraph (scripts).
    """

    def __init__(
        self,
        classes,
        title="Modulation",
        update_period=0.1,
        snapshot="",
        snapshot_after=3.0,
        exit_after_snapshot=False,
    ):
        classes = [str(c) for c in classes]
        if len(classes) < 2:
            raise ValueError(f"classes {classes} must name at least 2 classes")
        if not update_period > 0:
            raise ValueError(f"update_period {update_period} must be > 0")
        gr.sync_block.__init__(
            self, "amc_decision_display", in_sig=[(np.float32, len(classes))], out_sig=None
        )
        self.classes = classes
        self._lock = threading.Lock()
        self._probs = None
        self._label, self._confidence = "waiting for a signal", None
        self._estimate = ""
        self.message_port_register_in(pmt.intern("decision"))
        self.set_msg_handler(pmt.intern("decision"), self._on_message)
        self.message_port_register_in(pmt.intern("estimate"))
        self.set_msg_handler(pmt.intern("estimate"), self._on_estimate)
        self.widget = self._build(title)
        from PyQt5 import Qt

        self._timer = Qt.QTimer(self.widget)
        self._timer.timeout.connect(self._refresh)
        self._timer.start(max(10, int(update_period * 1000)))
        if snapshot:
            Qt.QTimer.singleShot(
                int(snapshot_after * 1000), lambda: self._snapshot(snapshot, exit_after_snapshot)
            )

    def _build(self, title):
        from PyQt5 import Qt

        w = Qt.QGroupBox(title)
        layout = Qt.QGridLayout(w)
        self._label_widget = Qt.QLabel()
        self._label_widget.setObjectName("amc_label")
        self._label_widget.setStyleSheet("font-size: 28pt; font-weight: bold;")
        self._conf_widget = Qt.QLabel()
        self._conf_widget.setStyleSheet("font-size: 14pt;")
        self._estimate_widget = Qt.QLabel()  # the blind estimate, when one is connected
        self._estimate_widget.setWordWrap(True)
        layout.addWidget(self._label_widget, 0, 0, 1, 2)
        layout.addWidget(self._conf_widget, 1, 0, 1, 2)
        layout.addWidget(self._estimate_widget, 2 + len(self.classes), 0, 1, 2)
        self._bars = []
        for i, name in enumerate(self.classes):
            bar = Qt.QProgressBar()
            bar.setRange(0, 1000)
            bar.setFormat("")  # the probability in per cent, written by _refresh
            layout.addWidget(Qt.QLabel(name), 2 + i, 0)
            layout.addWidget(bar, 2 + i, 1)
            self._bars.append(bar)
        self._refresh()
        return w

    def label_text(self) -> str:
        """What the big label shows now."""
        return self._label_widget.text()

    def _on_message(self, msg):
        d = pmt.to_python(msg)
        if isinstance(d, dict) and "label" in d:
            with self._lock:
                self._label = str(d["label"])
                self._confidence = float(d.get("confidence", 0.0))

    def _on_estimate(self, msg):
        d = pmt.to_python(msg)
        if isinstance(d, dict) and "kind" in d:
            try:
                text = describe(d, bool(d.get("samp_rate")))
            except (KeyError, TypeError, ValueError):
                return  # not an estimator's dict: nothing to show
            with self._lock:
                self._estimate = text

    def estimate_text(self) -> str:
        """What the estimate line shows now."""
        return self._estimate_widget.text()

    def work(self, input_items, output_items):
        with self._lock:
            self._probs = np.array(input_items[0][-1])
        return len(input_items[0])

    def _refresh(self):
        with self._lock:
            label, conf, probs, est = self._label, self._confidence, self._probs, self._estimate
        self._label_widget.setText(label)
        self._estimate_widget.setText(est)
        self._conf_widget.setText("" if conf is None else f"confidence {100 * conf:.0f} %")
        if probs is not None:
            for bar, p in zip(self._bars, probs, strict=True):
                p = min(1.0, max(0.0, float(p)))
                bar.setValue(int(1000 * p))
                bar.setFormat(f"{100 * p:.0f} %")

    def _snapshot(self, path: str, then_exit: bool):
        self.save_snapshot(path)
        if then_exit:
            self.logger.info(f"saved {path}; exiting, as asked")
            # closing the window runs the flowgraph's closeEvent (stop, wait); the
            # application ends with its last window
            self.widget.window().close()

    def save_snapshot(self, path: str):
        from PyQt5 import Qt

        self._refresh()
        win = self.widget.window()
        if win.width() < 1000 or win.height() < 800:  # a first start opens small: show it all
            win.resize(max(win.width(), 1200), max(win.height(), 900))
            Qt.QApplication.processEvents()
        image = win.grab()
        with AtomicFile(path) as tmp:
            image.save(tmp, "PNG")
