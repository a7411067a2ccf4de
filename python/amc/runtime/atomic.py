# SPDX-License-Identifier: GPL-3.0-or-later
"""Files written whole or not at all: a temporary file beside the target, renamed onto it.

A reader never sees half a file, and an interrupted writer (an exception, SIGINT,
SIGTERM) leaves nothing behind but the file that was there before.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading


def check_output(path: str, force: bool) -> None:
    """Fail before any work when the output cannot or must not be written."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"out: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"out: directory {directory} is not writable")
    if os.path.isdir(path):
        raise ValueError(f"out: {path} is a directory")
    if os.path.exists(path) and not force:
        raise ValueError(f"out: {path} exists; allow overwriting it (--force, overwrite=True)")


class AtomicFile:
    """A temporary file beside `path`, renamed onto it on success, removed otherwise."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> str:
        d, name = os.path.split(os.path.abspath(self.path))
        fd, self.tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=d)
        os.close(fd)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp made it private
            os.replace(self.tmp, self.path)
        elif os.path.exists(self.tmp):
            os.unlink(self.tmp)
        return False


def write_text(path: str, text: str) -> None:
    with AtomicFile(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def write_json(path: str, obj) -> None:
    write_text(path, json.dumps(obj, indent=1))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that the same cleanup runs."""


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM and SIGHUP raise Terminated (a KeyboardInterrupt) in the main
    thread instead of killing the process on the spot: AtomicFile removes its partial file,
    worker pools are shut down, as for SIGINT. The previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated(f"{signal.Signals(signum).name}")

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
