# SPDX-License-Identifier: GPL-3.0-or-later
"""`amc`: the gr-amc command line, one module per command group.

amc demo                 the main job on its built-in default signal      (cli.demo)
amc classify REC         classify a recording with a model bundle          (cli.classify)
amc models               the shipped model bundles                         (cli.classify)
amc dataset ...          RadioML-style datasets (generate, info)           (cli.dataset)
amc train / evaluate / export / quantize / prune   the model zoo           (cli.zoo)
amc bench ...            benchmarks                                        (cli.bench)
amc version

May import every layer; TensorFlow (ml/) only inside the commands that need it, so
that `amc --help`, `amc models` and `amc classify` start without it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sys

# TensorFlow's C++ start-up chatter is not for the command line's users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .._version import __version__  # noqa: E402
from . import bench, classify, common, dataset, demo, scan, zoo  # noqa: E402

GROUPS = (demo, bench, dataset, zoo, classify, scan)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, where it has one worth saying."""

    def _get_help_string(self, action):
        text = action.help or ""
        worth = action.default not in (None, False, [], argparse.SUPPRESS)
        if action.option_strings and worth and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse's parser with _DefaultsFormatter, for every command and sub-command."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="amc", description="gr-amc: modulation classification for GNU Radio")
    parser.add_argument("--verbose", action="store_true",
                        help="also show GNU Radio's info log and the libraries' start-up lines")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    p = sub.add_parser("version", help="print the gr-amc version")
    p.set_defaults(func=lambda args: print(__version__) or 0)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    interrupted = None
    with contextlib.nullcontext() if args.verbose else common.QuietOutput():
        try:
            return args.func(args)
        except (ValueError, OSError, pickle.UnpicklingError) as e:  # BundleError is a ValueError
            print(f"amc: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM/SIGHUP where a command handles them
            interrupted = e
    print(f"amc: interrupted{f' ({interrupted})' if str(interrupted) else ''}; nothing was left behind",
          file=sys.stderr)  # fmt: skip
    sys.stderr.flush()
    sys.stdout.flush()
    # the command's files are cleaned up by now; exit without the interpreter's exit hooks,
    # which would wait on worker pools that were ended mid-task
    os._exit(130)
