# SPDX-License-Identifier: GPL-3.0-or-later
"""What several commands share: the vectorizer's parameters as options."""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading

from ..runtime import features


def add_spec_args(p: argparse.ArgumentParser, window: int = 128) -> None:
    p.add_argument("--window", type=int, default=window, help="window length N (>= 16)")
    p.add_argument("--hop", type=int, default=None, help="samples between window starts (default N)")
    p.add_argument("--representation", choices=features.REPRESENTATIONS, default="iq")
    p.add_argument("--layout", choices=features.LAYOUTS, default="channels_last")
    p.add_argument("--normalization", choices=features.NORMALIZATIONS, default="l2")
    p.add_argument("--fft-size", type=int, default=0, help="mag_fft FFT size (0: window / fft-avg)")
    p.add_argument("--fft-avg", type=int, default=1, help="mag_fft: FFTs averaged per window")


def spec_of(args) -> features.VectorSpec:
    return features.VectorSpec(
        args.window, args.representation, args.layout, args.normalization, args.fft_size, args.fft_avg
    )


def rounded(tree):
    """Accuracies to 4 decimals for bundle.yaml."""
    if isinstance(tree, dict):
        return {k: rounded(v) for k, v in tree.items()}
    return round(tree, 4) if isinstance(tree, float) else tree


# What C libraries print at start-up, not for the command's user (shown with --verbose):
# gr-osmosdr's driver probes, LiteRT's delegate banner, TensorFlow's absl/oneDNN lines.
NOISE = re.compile(
    r"Using avx for xtrxdsp|^CPU Features:|^gr-osmosdr \d|XNNPACK delegate|absl::InitializeLog|"
    r"oneDNN custom operations|^[IW]0000 |Unable to register cu(DNN|FFT|BLAS)|TF-TRT Warning|"
    r"This TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler flags"
)
# GNU Radio's logger writes to standard output: its lines go to standard error (never into
# a --json document), its info and debug lines only with --verbose.
GR_LOG = re.compile(rb"^\S+ :(trace|debug|info|warning|error|critical|fatal): ")


class QuietOutput:
    """Standard output and error of the whole process (C libraries included) through
    pipes read by two threads, which drop NOISE and GNU Radio's info lines and move
    GNU Radio's warnings to standard error. Restored, and everything forwarded, on exit."""

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = {fd: os.dup(fd) for fd in (1, 2)}
        self.pumps = []
        for fd in (1, 2):
            r, w = os.pipe()
            os.dup2(w, fd)
            os.close(w)
            t = threading.Thread(target=self._pump, args=(r, fd), daemon=True)
            t.start()
            self.pumps.append(t)
        return self

    def _pump(self, r: int, fd: int) -> None:
        pending = b""
        with os.fdopen(r, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = re.split(rb"(?<=[\n\r])", pending)
                for line in lines:
                    self._forward(line, fd)
        if pending:
            self._forward(pending, fd)

    def _forward(self, line: bytes, fd: int) -> None:
        text = line.decode("utf-8", "replace")
        if NOISE.search(text):
            return
        gr_log = GR_LOG.match(line)
        if gr_log and gr_log.group(1) in (b"trace", b"debug", b"info"):
            return
        try:
            os.write(self.saved[2 if gr_log else fd], line)
        except OSError:  # the reader went away (| head): keep draining, write nothing
            pass

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        for fd in (1, 2):
            os.dup2(self.saved[fd], fd)  # closes the pipes' write ends: the pumps see the end
        for t in self.pumps:
            t.join(timeout=5)
        for fd in (1, 2):
            os.close(self.saved[fd])
        return False
