# SPDX-License-Identifier: GPL-3.0-or-later
"""amc.scan_display: a Qt waterfall of the band on which every signal amc.scanner reports
carries a box with its id, label and confidence, and a table of the signals beside it."""

from __future__ import annotations

import threading

import numpy as np
import pmt
from gnuradio import gr
from gnuradio.fft import logpwrfft

from ..runtime.atomic import AtomicFile
from ..runtime.estimate import si

COLUMNS = 1024  # bins are averaged down to at most this many columns
# viridis-like colour ramp (dark blue, teal, green, yellow), 256 entries of 0xRRGGBB
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float)


def _lut() -> np.ndarray:
    x = np.linspace(0, len(_RAMP) - 1, 256)
    rgb = np.stack([np.interp(x, np.arange(len(_RAMP)), _RAMP[:, c]) for c in range(3)], axis=1)
    rgb = rgb.astype(np.uint32)
    return (0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).astype(np.uint32)


class _waterfall(gr.sync_block):
    """The display's sink: log-power spectra in (one vector per line), reports in (port
    reports); the flowgraph threads only store, a Qt timer in the GUI thread redraws."""

    def __init__(self, fft_size, samp_rate, center_freq, title, lines, update_period, snapshot,
                 snapshot_after, exit_after_snapshot):  # fmt: skip
        gr.sync_block.__init__(self, "amc_scan_display", in_sig=[(np.float32, fft_size)], out_sig=None)
        self.rate, self.center = float(samp_rate), float(center_freq)
        self.columns = min(COLUMNS, fft_size)
        self._lock = threading.Lock()
        self._image = np.full((lines, self.columns), np.nan, np.float32)  # newest line on top
        self._lines = 0  # lines drawn since the start
        self._signals: dict[int, dict] = {}  # id -> last report, with the line it was first/last seen on
        self.message_port_register_in(pmt.intern("reports"))
        self.set_msg_handler(pmt.intern("reports"), self._on_report)
        self._lut = _lut()
        self.widget = self._build(title)
        from PyQt5 import Qt

        self._timer = Qt.QTimer(self.widget)
        self._timer.timeout.connect(self._refresh)
        self._timer.start(max(10, int(update_period * 1000)))
        if snapshot:
            Qt.QTimer.singleShot(
                int(snapshot_after * 1000), lambda: self._snapshot(snapshot, exit_after_snapshot)
            )

    def work(self, input_items, output_items):
        rows = input_items[0].reshape(len(input_items[0]), self.columns, -1).mean(axis=2)
        with self._lock:
            n = min(len(rows), len(self._image))
            self._image = np.roll(self._image, n, axis=0)
            self._image[:n] = rows[::-1][:n]
            self._lines += len(rows)
        return len(input_items[0])

    def _on_report(self, msg):
        d = pmt.to_python(msg)
        if not isinstance(d, dict) or "id" not in d or "center_hz" not in d:
            return
        with self._lock:
            old = self._signals.get(int(d["id"]), {})
            d["first_line"] = old.get("first_line", self._lines)
            d["last_line"] = self._lines
            if d.get("status") != "classified" and "label" in old:  # keep what was learnt
                d = {**old, **{k: v for k, v in d.items() if k not in ("label", "confidence")}}
            self._signals[int(d["id"])] = d
            # those that have scrolled off the picture are forgotten
            gone = [i for i, s in self._signals.items() if self._lines - s["last_line"] > len(self._image)]
            for i in gone:
                del self._signals[i]

    def signals(self) -> list[dict]:
        """What the display shows now: per signal its last report (and the lines it spans)."""
        with self._lock:
            return [dict(s) for _, s in sorted(self._signals.items())]

    @staticmethod
    def caption(s: dict) -> str:
        """A signal's text on the waterfall: id, decision (or this report's label) and confidence."""
        label = s.get("decision") if s.get("decision") not in (None, "unknown") else s.get("label", "unknown")
        conf = f" {100 * s['confidence']:.0f} %" if s.get("confidence") and label == s.get("label") else ""
        return f"{s['id']}: {label}{conf}"

    def _build(self, title):
        from PyQt5 import Qt

        display = self

        class Picture(Qt.QWidget):
            def paintEvent(self, event):  # noqa: N802 (Qt's name)
                display._paint(self)

        w = Qt.QGroupBox(title)
        layout = Qt.QVBoxLayout(w)
        self._picture = Picture()
        self._picture.setMinimumSize(640, 360)
        self._table = Qt.QLabel()
        self._table.setStyleSheet("font-family: monospace; font-size: 10pt;")
        self._table.setTextInteractionFlags(Qt.Qt.TextSelectableByMouse)
        layout.addWidget(self._picture, 1)
        layout.addWidget(self._table)
        return w

    def _paint(self, widget):
        from PyQt5 import Qt

        with self._lock:
            image, signals, lines = self._image.copy(), [dict(s) for s in self._signals.values()], self._lines
        p = Qt.QPainter(widget)
        width, height = widget.width(), widget.height()
        shown = image[np.isfinite(image[:, 0])]
        if len(shown):
            floor = float(np.percentile(shown, 20))
            scaled = np.clip((np.nan_to_num(image, nan=floor - 10) - floor + 5) / 40, 0, 1)
            argb = np.ascontiguousarray(self._lut[(scaled * 255).astype(np.uint8)])
            q = Qt.QImage(argb.data, argb.shape[1], argb.shape[0], Qt.QImage.Format_ARGB32)
            p.drawImage(Qt.QRectF(0, 0, width, height), q)
        row = height / len(image)
        p.setFont(Qt.QFont("Sans", 10, Qt.QFont.Bold))
        for s in signals:
            lo = (s["center_hz"] - s.get("bandwidth_hz", 0) / 2 - self.center) / self.rate + 0.5
            hi = (s["center_hz"] + s.get("bandwidth_hz", 0) / 2 - self.center) / self.rate + 0.5
            top, bottom = (lines - s["last_line"]) * row, (lines - s["first_line"]) * row
            box = Qt.QRectF(lo * width, top, max(2.0, (hi - lo) * width), max(4.0, bottom - top))
            p.setPen(Qt.QPen(Qt.QColor("white"), 1.5))
            p.drawRect(box)
            text = self.caption(s)
            metrics = p.fontMetrics()
            at = Qt.QPointF(
                min(box.left(), width - metrics.width(text) - 4), max(box.top(), 0) + metrics.height()
            )
            p.fillRect(Qt.QRectF(at.x() - 2, at.y() - metrics.ascent() - 1, metrics.width(text) + 4,
                                 metrics.height()), Qt.QColor(0, 0, 0, 160))  # fmt: skip
            p.drawText(at, text)
        p.end()

    def _refresh(self):
        rows = [f"{'id':>4}  {'centre':>13}  {'bandwidth':>10}  {'SNR':>7}  {'symbol rate':>12}  label"]
        for s in self.signals():
            rs = f"{si(s['symbol_rate_hz'])}Hz" if s.get("symbol_rate_hz") else "-"
            state = "" if s.get("event") != "end" else "  (ended)"
            bandwidth = si(s.get("bandwidth_hz", 0)) + "Hz"
            label = self.caption(s).split(": ", 1)[1]
            rows.append(f"{s['id']:>4}  {si(s['center_hz']) + 'Hz':>13}  {bandwidth:>10}  "
                        f"{s.get('snr_db', 0):5.1f} dB  {rs:>12}  {label}{state}")  # fmt: skip
        self._table.setText("\n".join(rows) if len(rows) > 1 else "no signal found yet")
        self._picture.update()

    def _snapshot(self, path: str, then_exit: bool):
        from PyQt5 import Qt

        self._refresh()
        win = self.widget.window()
        if win.width() < 1000 or win.height() < 700:  # a first start opens small: show it all
            win.resize(max(win.width(), 1200), max(win.height(), 800))
        Qt.QApplication.processEvents()
        with AtomicFile(path) as tmp:
            win.grab().save(tmp, "PNG")
        if then_exit:
            self.logger.info(f"saved {path}; exiting, as asked")
            win.close()


class scan_display(gr.hier_block2):
    """Complex samples of the band in, amc.scanner's reports in (message port reports): a
    waterfall (GNU Radio's logpwrfft, `lines_per_second` lines) on which each signal has a
    box from when it was first to last reported, with its id, decision and confidence, and
    a table of the signals (centre, bandwidth, SNR, symbol rate, label) below it.

    samp_rate, center_freq: of the band (Hz); fft_size: bins (a power of two);
    lines: the waterfall's height in lines; update_period: seconds between redraws;
    snapshot: save the window as PNG there snapshot_after seconds after start (and with
    exit_after_snapshot quit: scripts and tests). widget: the Qt widget; signals(): what it shows.
    """

    def __init__(self, samp_rate=10e6, center_freq=0.0, fft_size=1024, lines_per_second=20.0, lines=300,
                 title="Band", update_period=0.2, snapshot="", snapshot_after=5.0,
                 exit_after_snapshot=False):  # fmt: skip
        gr.hier_block2.__init__(
            self, "amc_scan_display", gr.io_signature(1, 1, gr.sizeof_gr_complex), gr.io_signature(0, 0, 0)
        )
        checks = (
            ("samp_rate", samp_rate > 0), ("center_freq", np.isfinite(center_freq)),
            ("fft_size", 64 <= fft_size <= 65536 and fft_size & (fft_size - 1) == 0),
            ("lines_per_second", lines_per_second > 0), ("lines", 10 <= lines <= 4000),
            ("update_period", update_period > 0), ("snapshot_after", snapshot_after >= 0),
        )  # fmt: skip
        for name, ok in checks:
            if not ok:
                raise ValueError(f"{name} {locals()[name]} is out of range")
        self.spectra = logpwrfft.logpwrfft_c(
            samp_rate, fft_size, 1.0, lines_per_second, 0.5, True, shift=True
        )
        self.sink = _waterfall(fft_size, samp_rate, center_freq, title, lines, update_period, snapshot,
                               snapshot_after, exit_after_snapshot)  # fmt: skip
        self.widget = self.sink.widget
        self.message_port_register_hier_in("reports")
        self.connect(self, self.spectra, self.sink)
        self.msg_connect(self, "reports", self.sink, "reports")

    def signals(self) -> list[dict]:
        return self.sink.signals()
