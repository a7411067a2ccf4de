# SPDX-License-Identifier: GPL-3.0-or-later
"""A progress bar for long work (dataset generation, training, classifying files)."""

from __future__ import annotations

import sys
import time


class Progress:
    """A progress bar on stderr (a line every 10 % when stderr is not a terminal)."""

    def __init__(self, total: int, label: str, stream=sys.stderr):
        self.total, self.label, self.stream = total, label, stream
        self.done, self.t0, self.last = 0, time.monotonic(), -1
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def step(self, n: int = 1, extra: str = ""):
        self.done += n
        frac = self.done / self.total
        if not self.tty and int(frac * 10) == self.last and self.done != self.total:
            return
        self.last = int(frac * 10)
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        line = f"{self.label} [{bar}] {self.done}/{self.total} {time.monotonic() - self.t0:6.1f} s {extra}"
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        if self.tty and self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()
