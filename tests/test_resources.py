# SPDX-License-Identifier: GPL-3.0-or-later
"""A source far faster than the classifier, for a minute: memory stays flat, and the windows
the classifier drops (max_backlog) are counted and logged with the right numbers."""

import re
import subprocess
import sys

SOAK = """
import sys, time
import numpy as np
from gnuradio import amc, blocks, gr

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

rng = np.random.default_rng(0)
x = (rng.standard_normal(1 << 16) + 1j * rng.standard_normal(1 << 16)).astype(np.complex64)
tb = gr.top_block()
src = blocks.vector_source_c(x.tolist(), True)  # unthrottled: far faster than any model
vec = amc.vectorizer(128, 128, "iq", "channels_last", "rms")
clf = amc.classifier("default", 128, "iq", "channels_last", "rms", max_backlog=8)
tb.connect(src, vec, clf, blocks.null_sink(gr.sizeof_float * 11))
tb.start()
time.sleep(float(sys.argv[1]))
start = rss_mb()
time.sleep(float(sys.argv[2]))
end = rss_mb()
tb.stop()
tb.wait()
counters = (clf.classified, clf.nonfinite, clf.silent, clf.dropped, clf.mismatched, clf.other_flagged)
ident = sum(f() for f in counters)
print(f"RESULT rss {start:.1f} {end:.1f} windows {clf.windows()} identity {ident} dropped {clf.dropped()}")
"""


def test_a_flooded_classifier_keeps_its_memory_and_counts_what_it_drops():
    r = subprocess.run([sys.executable, "-c", SOAK, "10", "50"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    rss0, rss1, windows, ident, dropped = re.search(
        r"RESULT rss (\S+) (\S+) windows (\d+) identity (\d+) dropped (\d+)", out
    ).groups()
    assert float(rss1) < 1.10 * float(rss0), f"RSS {rss0} -> {rss1} MB"
    assert int(windows) == int(ident) and int(dropped) > 0
    logged = [(int(a), int(b)) for a, b in re.findall(r"dropped (\d+) windows \((\d+) in all\)", out)]
    assert logged, "drops were not logged"
    totals = [b for _, b in logged]
    assert all(0 < a <= b for a, b in logged) and totals == sorted(totals) and totals[-1] <= int(dropped)
