# SPDX-License-Identifier: GPL-3.0-or-later
"""GNU Radio Companion, as README tells a user to start it, opens an example and draws
it: a screenshot of the virtual screen (Xvfb) shows the window, not an empty screen."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

# Grabs the X screen through GDK (GTK's own library, which GRC needs anyway) until
# something is drawn and has stopped changing, then saves it as PNG.
GRAB = """
import sys, time
import gi
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk
out, deadline, last = sys.argv[1], time.monotonic() + float(sys.argv[2]), None
while time.monotonic() < deadline:
    time.sleep(1.0)
    root = Gdk.get_default_root_window()
    shot = Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())
    pixels = shot.get_pixels()
    if len(set(pixels[::997])) > 20 and pixels == last:  # drawn, and settled
        break
    last = pixels
shot.savev(out, "png", [], [])
"""


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (apt install xvfb)")
def test_gnuradio_companion_opens_an_example_and_draws_it(root, tmp_path):
    import matplotlib.image

    grc = root / ".venv/bin/gnuradio-companion"
    assert grc.exists(), "README's GRC command (.venv/bin/gnuradio-companion) is missing: run .ci/setup"
    shot, log, prefs = tmp_path / "grc.png", tmp_path / "grc.log", tmp_path / "grc.conf"
    prefs.write_text("[main]\nmain_window_width = 1400\nmain_window_height = 1000\n")  # not the user's
    script = (
        f"{grc} {root / 'examples/live/amc_live.grc'} > {log} 2>&1 & "
        f"{sys.executable} -c '{GRAB}' {shot} 90; kill $!"
    )
    r = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", "sh", "-c", script],
        capture_output=True, text=True, timeout=180, env={**os.environ, "GRC_PREFS_PATH": str(prefs)},
    )  # fmt: skip
    out = log.read_text() if log.exists() else ""
    assert shot.exists(), r.stderr[-2000:] + out[-2000:]
    assert "Failed to initialize GTK" not in out, out[-2000:]
    assert "Traceback" not in out, out[-3000:]
    # every [AMC] block of the flowgraph was found in the installed block tree
    # (GLib's "Source ID n was not found when attempting to remove it", a timer race of GTK's
    # own at exit, is not about blocks)
    missing = [line for line in out.splitlines() if "not found" in line.lower() and "Source ID" not in line]
    assert not missing, out[-3000:]
    image = matplotlib.image.imread(str(shot))[..., :3]
    flat = (image.reshape(-1, 3) * 255).astype(np.uint8)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = counts.max() / len(flat)
    assert len(colours) > 50, f"{len(colours)} colours: nothing was drawn"
    assert background < 0.95, f"{100 * background:.1f} % of the screen is one colour: no window"
