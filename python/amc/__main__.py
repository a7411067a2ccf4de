# SPDX-License-Identifier: GPL-3.0-or-later
"""`python -m gnuradio.amc` runs the gr-amc command line."""

import sys

from .cli import main

sys.exit(main())
