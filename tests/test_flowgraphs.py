# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the installed module, GRC, the example flowgraphs and the `amc`
command as a user runs them."""

import os
import re
import subprocess

import numpy as np
import pytest

SYSTEM_PYTHON = "/usr/bin/python3"


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.mark.installed
def test_system_python_imports_the_installed_module(installed_env):
    # No venv, no PYTHONPATH: what a GNU Radio user gets after `make install`.
    code = "from gnuradio import amc; print(amc.vectorizer(128, 128).vlen(), amc.bundle.resolve('default'))"
    r = run([SYSTEM_PYTHON, "-c", code], env=installed_env)
    assert r.returncode == 0, r.stderr
    vlen, default = r.stdout.split()
    assert vlen == "256" and default.startswith("/usr/local/") and os.path.isdir(default)


def test_plain_cmake_configure_picks_gnuradios_python(root, tmp_path):
    # `mkdir build && cd build && cmake ..` must find the interpreter GNU Radio belongs to
    # even when another python3 comes first on PATH.
    r = run(["cmake", str(root)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    cache = (tmp_path / "CMakeCache.txt").read_text()
    assert re.search(r"^PYTHON_EXECUTABLE:\w+=/usr/bin/python3$", cache, re.M)
    install_rules = (tmp_path / "python/amc/cmake_install.cmake").read_text()
    dest = re.search(r'DESTINATION "([^"]+)/gnuradio/amc"', install_rules).group(1)
    prefix = re.search(r"^CMAKE_INSTALL_PREFIX:\w+=(.*)$", cache, re.M).group(1)
    dest = dest.replace("${CMAKE_INSTALL_PREFIX}", prefix)
    sys_path = run([SYSTEM_PYTHON, "-c", "import sys; print('\\n'.join(sys.path))"]).stdout.split()
    assert dest in sys_path, f"modules would go to {dest}, which /usr/bin/python3 does not search"


@pytest.fixture(scope="module")
def compiled_examples(root, tmp_path_factory):
    """Every example .grc compiled by grcc with the installed block definitions."""
    out = tmp_path_factory.mktemp("grcc")
    grcs = sorted((root / "examples").rglob("*.grc"))
    assert grcs, "no example flowgraphs"
    env = {k: v for k, v in os.environ.items() if k != "GRC_BLOCKS_PATH"}
    compiled = {}
    for grc in grcs:
        r = run(["grcc", "-o", str(out), str(grc)], env=env)
        assert r.returncode == 0, f"{grc.name}: {r.stdout[-2000:]}{r.stderr[-2000:]}"
        py = out / (grc.stem + ".py")
        assert py.exists(), grc
        compiled[grc.stem] = py
    return compiled


@pytest.mark.installed
def test_examples_compile_with_grcc(compiled_examples):
    assert {"vectorizer_demo", "dataset_writer"} <= set(compiled_examples)


def test_dataset_writer_example_writes_labelled_vectors(compiled_examples, root, tmp_path):
    out = tmp_path / "8psk.h5"
    args = "--modulation 8PSK --sps 4 --esn0 6 --length 256 --count 300 --seed 3 --out".split()
    r = run([str(root / ".venv/bin/python"), str(compiled_examples["dataset_writer"]), *args, str(out)])
    assert r.returncode == 0, r.stderr
    from gnuradio.amc.datasets import readers
    from gnuradio.amc.runtime import waveforms

    d = readers.read_hdf5(str(out))
    assert d["X"].shape == (300, 256, 2)
    assert np.all(d["Y"][:, waveforms.RML2016_CLASSES.index("8PSK")] == 1)
    assert np.all(d["Z"] == 6) and np.all(d["sps"] == 4)
    # the channel keeps unit power; noise at Es/N0 6 dB and 4 sps adds sps / 10**0.6 = 1.0
    assert np.mean(d["X"] ** 2) * 2 == pytest.approx(2.0, rel=0.15)
    again = run([str(root / ".venv/bin/python"), str(compiled_examples["dataset_writer"]), *args, str(out)])
    assert again.returncode != 0 and "exists" in again.stderr


# Runs a compiled Qt flowgraph, then after a few seconds checks that it is moving (the vectorizer's
# count grows) and grabs the window: what a user sees, not only that the process lived.
QT_HARNESS = """
import importlib.util, sys, time
from PyQt5 import Qt
spec = importlib.util.spec_from_file_location("fg", sys.argv[1])
fg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fg)
app = Qt.QApplication(sys.argv)
tb = fg.vectorizer_demo()
tb.start()
tb.show()
counts = []
for _ in range(2):
    end = time.monotonic() + 2
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    counts.append(tb.amc_vectorizer_0.windows_out())
tb.grab().save(sys.argv[2], "PNG")
tb.stop(); tb.wait()
print("COUNTS", *counts)
"""


def test_vectorizer_example_draws_and_runs(compiled_examples, gui_env, tmp_path):
    shot = tmp_path / "vectorizer_demo.png"
    r = run([SYSTEM_PYTHON, "-c", QT_HARNESS, str(compiled_examples["vectorizer_demo"]), str(shot)],
            timeout=60, env=gui_env)  # fmt: skip
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    first, second = (int(c) for c in re.search(r"COUNTS (\d+) (\d+)", r.stdout).groups())
    assert 0 < first < second, "the flowgraph is not moving"
    import matplotlib.image

    image = matplotlib.image.imread(str(shot))[..., :3]
    assert image.shape[0] > 200 and image.shape[1] > 300
    assert image.std() > 0.05, "the window is blank"  # plot, axes and labels drawn


def test_amc_demo_prints_the_vectors(root):
    r = run([str(root / ".venv/bin/amc"), "demo", "--vectors", "--samples", "8192"])
    assert r.returncode == 0, r.stderr
    assert "8192 samples of QPSK (8 sps) -> 64 vectors of shape (128, 2)" in r.stdout
    assert "windows_out=64 nonfinite=0 silent=0" in r.stdout
    assert "per-vector sum of squares: mean 1.0000" in r.stdout
    starts = re.findall(r"^\s+\d+\s+(\d+)\s", r.stdout, re.M)
    assert starts[:3] == ["0", "128", "256"]


def test_amc_demo_other_representation_and_hop(root):
    r = run(
        [
            str(root / ".venv/bin/amc"),
            "demo",
            "--vectors",
            "--samples",
            "4096",
            "--window",
            "1024",
            "--hop",
            "512",
            "--representation",
            "mag_fft",
            "--fft-avg",
            "4",
        ]
    )
    assert r.returncode == 0, r.stderr
    assert "-> 7 vectors of shape (256,)" in r.stdout


@pytest.mark.parametrize(
    "args, word",
    [(["--window", "8"], "window"), (["--hop", "0"], "hop"), (["--representation", "x"], "representation")],
)
def test_amc_demo_rejects_bad_parameters(root, args, word):
    r = run([str(root / ".venv/bin/amc"), "demo", "--vectors", *args])
    assert r.returncode == 2
    assert word in r.stderr


def test_vectorizer_benchmark_command_reports_a_table(root):
    r = run(
        [
            str(root / ".venv/bin/amc"),
            "bench",
            "vectorizer",
            "--windows",
            "128",
            "--samples",
            "200000",
            "--rounds",
            "1",
        ],
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("| iq/channels_last/l2 | 128 |")]
    assert len(rows) == 1
    msps, base, ratio = (float(x.strip().rstrip("x")) for x in rows[0].split("|")[3:6])
    # the block against blocks.stream_to_vector in the same run: the ratio is what the table
    # reports, and even a loaded CI machine moves more than 1 MS/s through either
    assert msps > 1 and base > 1
    assert ratio == pytest.approx(msps / base, rel=0.05)
