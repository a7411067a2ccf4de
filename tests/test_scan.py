# SPDX-License-Identifier: GPL-3.0-or-later
"""The wideband scanner: amc.channel_detector on scenes of the independent generator
(examples/zoo/cross_scene.py, no code shared with gr-amc) and `amc scan` on a SigMF scene."""

import importlib.util
import json
import shutil
import subprocess
import sys

import numpy as np
import pmt
import pytest
from gnuradio import amc, blocks, gr

RATE = 2e6


@pytest.fixture(scope="module")
def scenes(root):
    sys.path.insert(0, str(root / "examples/zoo"))
    spec = importlib.util.spec_from_file_location("cross_scene", root / "examples/zoo/cross_scene.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def detect(x, **kw):
    tb = gr.top_block()
    tags = kw.pop("tags", [])
    det = amc.channel_detector(RATE, kw.pop("center_freq", 0.0), 4096, 8, **kw)
    store = blocks.message_debug()
    src = blocks.vector_source_c(x, False, 1, tags)
    tb.connect(src, det)
    tb.msg_connect(det, "signals", store, "store")
    tb.run()
    events = [pmt.to_python(store.get_message(i)) for i in range(store.num_messages())]
    return det, events


def test_every_signal_of_a_scene_is_found_once_where_it_is(scenes):
    rng = np.random.default_rng(4)
    x, truth = scenes.scene(rng, RATE, 0.5, 3, classes=("QPSK", "BPSK", "QAM16"), bw_range=(40e3, 300e3),
                            snr_range=(12, 20))  # fmt: skip
    det, events = detect(x)
    signals = {e["id"]: e for e in events if e["event"] == "start"}
    signals.update({e["id"]: e for e in events if e["event"] == "end"})
    for e in pmt.to_python(det.tracked()):
        signals[e["id"]] = e
    assert len(signals) == len(truth), (signals, truth)
    for t in truth:
        s = min(signals.values(), key=lambda s: abs(s["center_hz"] - t["center_hz"]))
        assert abs(s["center_hz"] - t["center_hz"]) < 0.02 * t["bandwidth_3db_hz"], (s, t)
        assert s["bandwidth_hz"] == pytest.approx(t["bandwidth_3db_hz"], rel=0.15)
        assert s["first_sample"] <= t["start"] + 0.02 * RATE and s["snr_db"] > 8
    assert det.frames() == len(x) // (4096 * 8)


def test_bursts_come_and_go_with_ids_and_noise_alone_is_nothing():
    rng = np.random.default_rng(2)
    n = int(RATE)
    x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)
    k = np.arange(n)
    for a in (int(0.2 * RATE), int(0.6 * RATE)):  # two 60 ms bursts of a 100 kHz-wide signal at +300 kHz
        b = a + int(0.06 * RATE)
        band = np.fft.ifft(
            np.fft.fft(rng.standard_normal(b - a) + 0j) * (np.abs(np.fft.fftfreq(b - a)) < 0.025)
        )
        x[a:b] += 10 * band / np.std(band) * np.sqrt(0.05) * np.exp(2j * np.pi * 0.15 * k[a:b])
    x[100_000:100_050] = np.nan  # a spoilt frame, no crash
    det, events = detect(x, center_freq=100e6, report_interval=0.25)
    starts = [e for e in events if e["event"] == "start"]
    ends = [e for e in events if e["event"] == "end"]
    assert len(starts) == 2 and len({e["id"] for e in starts}) == 2, events
    assert [e["id"] for e in ends] == [e["id"] for e in starts]
    for e, t0 in zip(ends, (0.2, 0.6), strict=True):
        assert e["center_hz"] == pytest.approx(100.3e6, abs=3e3)
        assert abs(e["first_seen"] - t0) < 0.03 and 0.04 < e["last_seen"] - e["first_seen"] < 0.12
    lists = [e for e in events if e["event"] == "list"]
    assert lists and all(isinstance(e["signals"], list) for e in lists)
    _, noise = detect(
        ((rng.standard_normal(4 * n) + 1j * rng.standard_normal(4 * n)) / np.sqrt(2)).astype(np.complex64)
    )
    assert not [e for e in noise if e["event"] == "start"]


def test_a_retune_ends_what_was_there():
    rng = np.random.default_rng(3)
    n = int(RATE * 0.4)
    x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)
    x += (3 * np.exp(2j * np.pi * 0.1 * np.arange(n))).astype(np.complex64)  # a carrier at +200 kHz
    tag = gr.tag_utils.python_to_tag((n // 2, pmt.intern("rx_freq"), pmt.from_double(50e6), pmt.PMT_F))
    _, events = detect(x, center_freq=10e6, min_bandwidth=1.0, tags=[tag])
    centres = [e["center_hz"] for e in events if e["event"] == "start"]
    assert centres == [pytest.approx(10.2e6, abs=1e3), pytest.approx(50.2e6, abs=1e3)], events


def test_bad_parameters_are_named():
    for bad in ({"samp_rate": 0}, {"fft_size": 1000}, {"average": 0}, {"threshold_db": -1},
                {"hysteresis_db": 9}, {"floor_quantile": 0.9}, {"hold": -1}):  # fmt: skip
        args = {"samp_rate": RATE, **bad}
        with pytest.raises(ValueError, match=next(iter(bad))):
            amc.channel_detector(**args)


def test_amc_scan_names_the_signals_of_a_sigmf_scene(root, scenes, tmp_path):
    rng = np.random.default_rng(11)
    x, truth = scenes.scene(rng, RATE, 0.6, 3, classes=("BPSK", "QPSK", "PAM4"), bw_range=(60e3, 200e3),
                            snr_range=(22, 25), min_on=0.9)  # fmt: skip
    base = tmp_path / "scene"
    scenes.write_sigmf(str(base), x, RATE, truth, centre_freq=433e6)
    plot = tmp_path / "waterfall.png"
    r = subprocess.run([str(root / ".venv/bin/amc"), "scan", f"{base}.sigmf-meta", "--fft", "4096", "--json",
                        "--plot", str(plot)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout)
    found = sorted(report["signals"], key=lambda s: s["center_hz"])
    assert len(found) == 3, found
    for s, t in zip(found, sorted(truth, key=lambda t: t["center_hz"]), strict=True):
        assert s["center_hz"] == pytest.approx(433e6 + t["center_hz"], abs=0.02 * t["bandwidth_3db_hz"])
        assert s["symbol_rate_hz"] == pytest.approx(t["symbol_rate_hz"], rel=0.01)
        assert s["label"] == t["class"], (s, t)
    meta = json.loads((tmp_path / "scene.sigmf-meta").read_text())
    ours = [a for a in meta["annotations"] if a.get("amc:tool") == "scan"]
    assert len(ours) == 3 and all(a["core:freq_lower_edge"] < a["core:freq_upper_edge"] for a in ours)
    assert {a["core:label"] for a in ours} == {t["class"] for t in truth}
    assert len([a for a in meta["annotations"] if a.get("core:generator") == "cross_scene.py"]) == 3  # kept
    assert plot.stat().st_size > 10_000


def test_the_headless_scanner_reports_every_signal_of_a_replayed_band_with_its_label(root, scenes, tmp_path):
    rng = np.random.default_rng(5)
    x, truth = scenes.scene(rng, RATE, 1.0, 3, classes=("QPSK", "BPSK", "PAM4"), bw_range=(50e3, 200e3),
                            snr_range=(15, 20), min_on=0.9)  # fmt: skip
    band = tmp_path / "band.cf32"
    x.tofile(band)
    r = subprocess.run(["grcc", "-o", str(tmp_path), str(root / "examples/live/amc_scan_headless.grc")],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = tmp_path / "signals.jsonl"
    r = subprocess.run([sys.executable, str(tmp_path / "amc_scan_headless.py"), "--device-args",
                        f"file={band},rate={RATE},repeat=false,throttle=true", "--center-freq", "433e6",
                        "--json-path", str(out), "--zmq-address", "tcp://127.0.0.1:0", "--report-interval",
                        "0.25"], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    reports = [json.loads(line) for line in out.read_text().splitlines()]
    assert {d["event"] for d in reports} <= {"report", "end"}
    by_id = {}
    for d in reports:
        by_id.setdefault(d["id"], []).append(d)
    assert len(by_id) == len(truth), (by_id.keys(), truth)
    for t in truth:
        mine = min(by_id.values(), key=lambda ds: abs(ds[0]["center_hz"] - 433e6 - t["center_hz"]))
        assert mine[0]["center_hz"] == pytest.approx(433e6 + t["center_hz"], abs=0.03 * t["bandwidth_3db_hz"])
        classified = [d for d in mine if d["status"] == "classified"]
        assert classified, mine
        assert mine[-1]["decision"] == t["class"], (mine[-1], t)
        assert classified[-1]["symbol_rate_hz"] == pytest.approx(t["symbol_rate_hz"], rel=0.01)
        assert all(d.get("why") for d in mine if d["status"] == "unclassified")


def test_a_signal_over_the_lane_budget_is_reported_and_classified_in_turn(scenes):
    rng = np.random.default_rng(8)
    # 2.5 s: enough report turns that each signal gets one even when a loaded machine slows the worker
    x, truth = scenes.scene(rng, RATE, 2.5, 3, classes=("QPSK", "BPSK"), bw_range=(60e3, 150e3),
                            snr_range=(18, 22), min_on=0.95)  # fmt: skip
    x[600_000:600_100] = np.nan  # a spoilt stretch: reported, no crash
    tb = gr.top_block()
    sc = amc.scanner("default", RATE, 0.0, 4096, 6.0, 0.0, 0.25, 0.1, 1)  # one lane for three signals
    store = blocks.message_debug()
    tb.connect(
        blocks.vector_source_c(x.astype(np.complex64), False), blocks.throttle(gr.sizeof_gr_complex, RATE), sc
    )
    tb.msg_connect(sc, "reports", store, "store")
    tb.run()
    latest = sc.latest()
    assert len(latest) == len(truth)
    reports = [pmt.to_python(store.get_message(i)) for i in range(store.num_messages())]
    assert any("lane budget" in str(d.get("why")) for d in reports)
    for t in truth:  # each took its turn
        mine = [d for d in reports if abs(d["center_hz"] - t["center_hz"]) < 0.05 * t["bandwidth_3db_hz"]]
        assert any(d["status"] == "classified" and d["label"] == t["class"] for d in mine), (t, mine)


@pytest.mark.parametrize(
    "bad",
    [
        {"span": 0.0},
        {"lanes": 0},
        {"report_interval": 0.0},
        {"model": "no_such_model"},
        {"json_path": "/no/such/dir/x.jsonl"},
        {"k": 0},
    ],  # fmt: skip
)
def test_scanner_parameters_are_named(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        amc.scanner(**{"samp_rate": RATE, **bad})


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (apt install xvfb)")
def test_the_qt_band_scanner_draws_a_labelled_box_per_signal(root, scenes, tmp_path):
    import matplotlib.image

    rng = np.random.default_rng(5)
    x, truth = scenes.scene(rng, RATE, 2.0, 3, classes=("QPSK", "BPSK", "PAM4"), bw_range=(50e3, 200e3),
                            snr_range=(15, 20), min_on=0.95)  # fmt: skip
    band = tmp_path / "band.cf32"
    x.astype(np.complex64).tofile(band)
    r = subprocess.run(["grcc", "-o", str(tmp_path), str(root / "examples/live/amc_scan.grc")],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    shot, out = tmp_path / "scan.png", tmp_path / "reports.jsonl"
    args = ["--device-args", f"file={band},rate={RATE},repeat=true,throttle=true", "--center-freq", "433e6",
            "--zmq-address", "tcp://127.0.0.1:0", "--report-interval", "0.5", "--json-path", str(out),
            "--snapshot", str(shot), "--snapshot-exit", "yes"]  # fmt: skip
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", sys.executable,
                        str(tmp_path / "amc_scan.py"), *args],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0 and shot.exists(), r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    decided = {}
    for d in map(json.loads, out.read_text().splitlines()):
        decided[round(d["center_hz"] - 433e6, -4)] = d["decision"]
    for t in truth:  # what the boxes say: the decision of the signal at each truth's centre
        near = [v for c, v in decided.items() if abs(c - t["center_hz"]) < 0.2 * t["bandwidth_3db_hz"] + 1e4]
        assert t["class"] in near, (t, decided)
    img = matplotlib.image.imread(str(shot))[..., :3]
    assert img.shape[0] >= 700 and img.shape[1] >= 1000
    # the waterfall is drawn (not one colour), and boxes and captions in pure white, which the
    # colour ramp never makes
    assert img[100:400, 100:-100].std() > 0.05
    assert np.sum(np.all(img[60:-120] > 0.99, axis=2)) > 500


def test_amc_scan_prints_the_signals_of_the_committed_scene(root):
    meta = root / "examples/scenes/band_433.sigmf-meta"
    truth = json.loads(meta.read_text())["annotations"]
    r = subprocess.run([str(root / ".venv/bin/amc"), "scan", str(meta), "--fft", "4096", "--no-annotate",
                        "--json"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    found = sorted(json.loads(r.stdout)["signals"], key=lambda s: s["center_hz"])
    truth = sorted(truth, key=lambda a: a["core:freq_lower_edge"])
    assert [s["label"] for s in found] == [a["core:label"] for a in truth]
    for s, a in zip(found, truth, strict=True):
        assert a["core:freq_lower_edge"] < s["center_hz"] < a["core:freq_upper_edge"]
        assert s["symbol_rate_hz"] == pytest.approx(a["scene:symbol_rate_hz"], rel=0.005)
    assert '"scan"' not in meta.read_text()  # --no-annotate: the committed file is left alone


def test_scene_generator_writes_what_it_says(tmp_path):
    from gnuradio.amc.datasets import scene
    from gnuradio.amc.runtime import recordings

    x, truth = scene.make(2e6, 0.4, 3, ("QPSK", "GMSK"), (50e3, 200e3), (20.0, 20.0), bursts=True, seed=2)
    assert len(x) == 800_000 and len(truth) == 3 and x.dtype == np.complex64
    assert truth[1].start > 0 or truth[1].stop < len(x)  # the second is in bursts
    for t in truth:  # every signal where it is said to be, about as strong as said
        k = np.arange(t.start, t.stop)
        seg = x[k] * np.exp(-2j * np.pi * t.center_hz / 2e6 * k)
        spectrum = np.abs(np.fft.fftshift(np.fft.fft(seg[: 1 << 16]))) ** 2
        f = np.fft.fftshift(np.fft.fftfreq(1 << 16, 1 / 2e6))
        inside = np.abs(f) < 0.4 * t.bandwidth_hz
        outside = (np.abs(f) > 1.5 * t.bandwidth_hz) & (np.abs(f) < 3 * t.bandwidth_hz)
        assert 10 * np.log10(spectrum[inside].mean() / spectrum[outside].mean()) > 15, t
    scene.write_sigmf(str(tmp_path / "s"), x, 2e6, truth, 100e6, "ci16_le")
    rec = recordings.read(str(tmp_path / "s.sigmf-meta"))
    assert rec.samp_rate == 2e6 and rec.center_freq == 100e6 and len(rec.samples) == len(x)
    meta = json.loads((tmp_path / "s.sigmf-meta").read_text())
    assert [a["core:label"] for a in meta["annotations"]] == [
        t.label for t in sorted(truth, key=lambda t: (t.start, t.center_hz))
    ]
    with pytest.raises(ValueError, match="classes"):
        scene.make(2e6, 0.1, 2, ("WBFM",))
    with pytest.raises(ValueError, match="bandwidth"):
        scene.make(2e6, 0.1, 2, ("QPSK",), (5e6, 6e6))
