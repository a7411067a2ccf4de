# SPDX-License-Identifier: GPL-3.0-or-later
"""What the live-signal user sees: the shipped default model on fresh signals, the
headless sensor and Qt GUI flowgraphs replaying a recording through gr-osmosdr's
file= device, `amc classify` on every recording type, `amc models`, `amc demo`."""

import json
import os
import shutil
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
from gnuradio import blocks, gr

from gnuradio.amc.blocks.classifier import classify_windows
from gnuradio.amc.blocks.modulation_source import modulation_source
from gnuradio.amc.runtime import bundle

SAMP_RATE, SYMBOL_RATE = 2e6, 125e3  # 16 samples per symbol at the SDR: the flowgraphs resample
PY = sys.executable  # the venv interpreter: GNU Radio plus LiteRT
REPLAY = "BPSK"
GOOD_CLASSES = ("BPSK", "AM-DSB", "GFSK", "PAM4", "WBFM")  # ones the default model is sure of at 20 dB


def make_signal(modulation, sps, n, esn0_db=20.0, seed=1):
    tb = gr.top_block()
    src = modulation_source(modulation, sps, seed=seed)
    sink = blocks.vector_sink_c()
    tb.connect(src, blocks.head(gr.sizeof_gr_complex, n), sink)
    tb.run()
    x = np.array(sink.data(), np.complex64)
    rng = np.random.default_rng(seed)
    noise = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * np.sqrt(sps / 10 ** (esn0_db / 10) / 2)
    return (x * np.exp(1j * rng.uniform(0, 2 * np.pi)) + noise).astype(np.complex64)


@pytest.fixture(scope="module")
def default():
    return bundle.load("default")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A BPSK burst as an SDR at 2 MS/s would record it (16 samples per symbol)."""
    path = tmp_path_factory.mktemp("rec") / "bpsk.cf32"
    make_signal(REPLAY, 16, int(SAMP_RATE * 0.5)).tofile(path)
    return path


def test_shipped_models_load_and_are_small():
    names = bundle.shipped()
    assert bundle.DEFAULT in names
    for name in names:
        b = bundle.load(name)
        size = sum(os.path.getsize(os.path.join(b.path, f)) for f in os.listdir(b.path))
        assert size < 5 * 2**20, f"{name}: {size} bytes"
        assert b.sps in (4, 8) and "highest" in b.meta["evaluation"]  # its test table travels with it


@pytest.mark.parametrize("name", bundle.shipped())
def test_every_shipped_model_classifies_fresh_signals_far_above_chance(name):
    # measured here, on signals made afresh at its samples per symbol and 30 dB, every class
    b = bundle.load(name)
    n = b.lengths[0] if 128 not in b.lengths else 128
    right = []
    for k, modulation in enumerate(b.classes):
        x = make_signal(modulation, b.sps, 24 * n + 4096, esn0_db=30.0, seed=20 + k)[4096:]
        _, labels, _, _ = classify_windows(b.runner(n, 2), b.classes, b.spec(n), x)
        right.append(np.mean(np.array(labels) == modulation))
    assert np.mean(right) > 3 / len(b.classes), dict(zip(b.classes, np.round(right, 2), strict=True))


@pytest.mark.parametrize("modulation", GOOD_CLASSES)
def test_default_model_names_fresh_signals(default, modulation):
    # signals made afresh (another seed, no fading), at the model's 8 samples per symbol
    n = default.lengths[0]
    x = make_signal(modulation, 8, 200 * n, seed=11)
    _, labels, conf, _ = classify_windows(default.runner(n, 2), default.classes, default.spec(n), x)
    share = np.mean(np.array(labels) == modulation)
    got = dict(zip(*np.unique(labels, return_counts=True), strict=True))
    assert share > 0.6, f"{modulation}: {share:.2f} of windows right; got {got}"


def independent_generator(root):
    """examples/zoo/cross_generator.py: numpy-only signals sharing no code with gr-amc."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cross_generator", root / "examples/zoo/cross_generator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def independent_share(root, default, modulation, esn0, rng, *args, **kwargs):
    """The share of 300 of the independent generator's windows the default calls `modulation`, and
    what it called them."""
    n = default.lengths[0]
    x = independent_generator(root).windows(modulation, 300, n, default.sps, esn0, rng, *args, **kwargs)
    _, labels, _, _ = classify_windows(default.runner(n, 2), default.classes, default.spec(n), x)
    return np.mean(np.array(labels) == modulation), dict(
        zip(*np.unique(labels, return_counts=True), strict=True)
    )


def test_independent_generator_makes_nyquist_pulses_at_the_asked_es_n0(root):
    gen = independent_generator(root)
    for sps in (4, 8):
        raised = np.convolve(gen.rrc_taps(0.35, sps), gen.rrc_taps(0.35, sps))  # RRC * RRC: no ISI
        at_symbols = raised[len(raised) // 2 + sps * np.arange(-5, 6)]
        assert at_symbols[5] == pytest.approx(1.0, abs=1e-2)
        assert np.abs(np.delete(at_symbols, 5)).max() < 0.01
        quiet = gen.windows("QPSK", 50, 1024, sps, 200.0, np.random.default_rng(0))
        noisy = gen.windows("QPSK", 50, 1024, sps, 10.0, np.random.default_rng(0))  # same draws, plus noise
        es_n0 = 10 * np.log10(sps / np.mean(np.abs(noisy - quiet) ** 2))
        assert es_n0 == pytest.approx(10.0, abs=0.2)


def test_independent_generator_makes_the_rml2018_signals_it_claims(root):
    gen = independent_generator(root)
    rng = np.random.default_rng(1)
    # OQPSK: the rails change half a symbol apart, so the envelope never passes near zero
    qpsk, oqpsk = (np.abs(gen.windows(m, 40, 1024, 8, 200.0, rng)) for m in ("QPSK", "OQPSK"))
    assert np.percentile(oqpsk, 1) > 3 * np.percentile(qpsk, 1)
    # GMSK: constant envelope, the phase moves by at most pi/2 a symbol (h = 0.5)
    gmsk = gen.windows("GMSK", 20, 1024, 8, 200.0, rng)
    assert np.std(np.abs(gmsk)) < 1e-6
    step = np.abs(np.diff(np.unwrap(np.angle(gmsk), axis=1)[:, ::8], axis=1))
    assert step.max() == pytest.approx(np.pi / 2, rel=0.01)
    # a model is scored under its own names for the generator's classes
    assert gen.model_name("QAM16", ("16QAM", "BPSK")) == "16QAM"
    assert gen.model_name("QAM16", ("QAM16", "BPSK")) == "QAM16"
    assert "16APSK" not in gen.outside_of(("16APSK", "BPSK"))


@pytest.mark.parametrize("modulation", ("BPSK", "QPSK", "PAM4", "QAM16"))
def test_default_model_names_signals_from_an_independent_generator(root, default, modulation):
    # what users feed it: another generator's pulses, timing, carrier phase and a frequency offset
    # of 1e-3 cycles/sample (5x the augmentation range); 8PSK and QAM64 are the default model's
    # known confusions (docs/models.md) and are left out
    share, got = independent_share(root, default, modulation, 20.0, np.random.default_rng(3), cfo=1e-3)
    assert share > 0.75, f"{modulation}: {share:.2f} of windows right; got {got}"


@pytest.mark.parametrize("modulation", ("BPSK", "QPSK", "PAM4", "CPFSK"))
def test_default_model_names_signals_behind_a_receivers_filter(root, default, modulation):
    # the blind front end and the scanner hand the model its signal filtered to the band, noise
    # included: here the independent generator's low-pass at 0.8 times the symbol rate, per-sample
    # SNR 4 dB (the default before it was trained behind such a filter: QPSK 69 %, now 92 %)
    esn0 = 4.0 + 10 * np.log10(default.sps)
    share, got = independent_share(
        root, default, modulation, esn0, np.random.default_rng(5), (0.2, 0.5), 1e-3, band=0.8
    )
    assert share > 0.85, f"{modulation}: {share:.2f} of windows right; got {got}"


VARIABLE = "modified_lstm_ap"
VARIABLE_GOOD = ("AM-DSB", "WBFM")  # classes it is sure of at 20 dB at every length and sps (docs/models.md)


@pytest.mark.parametrize("sps, length", [(4, 64), (8, 256), (4, 512)])
def test_variable_length_model_runs_in_a_flowgraph_at_any_length_and_sps(sps, length):
    # 004's model through the real blocks: amplitude-phase vectors of `length` samples,
    # at 4 or 8 samples per symbol; 64 is a length it never saw in training
    from gnuradio import amc as blocks_amc

    b = bundle.load(VARIABLE)
    assert b.meta["input"]["representation"] == "amp_phase" and length in b.lengths
    for modulation in VARIABLE_GOOD:
        x = make_signal(modulation, sps, 60 * length, seed=13)
        tb = gr.top_block()
        vec = blocks_amc.vectorizer(length, length, "amp_phase", "channels_last", "l2")
        clf = blocks_amc.classifier(VARIABLE, length, "amp_phase", "channels_last", "l2", outputs="index")
        sink = blocks.vector_sink_i()
        tb.connect(blocks.vector_source_c(x.tolist()), vec, clf, sink)
        tb.run()
        labels = [b.classes[i] for i in sink.data()]
        assert len(labels) == 60
        share = np.mean(np.array(labels) == modulation)
        assert share > 0.6, f"{modulation} at {sps} sps, {length} samples: {share:.2f} right"


@pytest.fixture(scope="module")
def compiled(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("live")
    for name in ("amc_headless", "amc_live", "amc_live_soapy", "amc_blocks"):
        r = subprocess.run(["grcc", "-o", str(out), str(root / "examples/live" / f"{name}.grc")],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return out


def replay_args(recording, symbol_rate=None):
    # one sample rate: the replay's rate= drives the source and the chain (no --samp-rate);
    # no --symbol-rate: the flowgraphs find it (16 samples per symbol here, the model's 8)
    rate = ["--symbol-rate", str(symbol_rate)] if symbol_rate else []
    return ["--device-args", f"file={recording},rate={SAMP_RATE},repeat=false,throttle=true", *rate]


def test_headless_flowgraph_logs_json_and_publishes_on_zmq(compiled, recording, tmp_path, root):
    import pmt
    import zmq

    log = tmp_path / "decisions.jsonl"
    port = 5600 + os.getpid() % 300
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.connect(f"tcp://127.0.0.1:{port}")
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    proc = subprocess.Popen(
        [PY, str(compiled / "amc_headless.py"), *replay_args(recording), "--json-path", str(log),
         "--zmq-address", f"tcp://127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    received = []
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if sub.poll(200):
            received.append(pmt.to_python(pmt.deserialize_str(sub.recv())))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-3000:]
    everything = [json.loads(line) for line in log.read_text().splitlines()]
    lines = [d for d in everything if "label" in d]  # decisions; the estimator's lines have "kind"
    estimates = [d for d in everything if "kind" in d]
    assert lines and estimates, err[-3000:]
    assert estimates[0]["kind"] == "linear" and estimates[0]["symbol_rate_hz"] == pytest.approx(
        SYMBOL_RATE, rel=1e-3
    )
    assert set(lines[0]) >= {
        "label",
        "index",
        "confidence",
        "offset",
        "windows",
        "time",
        "time_source",
        "model",
    }
    assert (
        lines[0]["time_source"] == "host" and abs(lines[0]["time"] - time.time()) < 600
    )  # no rx_time in a file
    assert lines[0]["model"] == "default"
    assert lines[0]["label"] in (REPLAY, "unknown"), lines[0]  # never a confident wrong start
    assert lines[-1]["label"] == REPLAY, lines
    assert received and received[-1]["label"] == REPLAY
    assert "Traceback" not in err


def test_the_separate_blocks_default_to_the_model_and_classify_a_recording(compiled, tmp_path):
    rec, log = tmp_path / "qpsk12.cf32", tmp_path / "d.jsonl"
    make_signal("QPSK", 12, 200_000, seed=4).tofile(rec)  # 12 samples per symbol, not told
    cmd = [PY, str(compiled / "amc_blocks.py"), "--recording", str(rec), "--json-path", str(log)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    # the normaliser waits for the first estimate (65,536 samples), then 8 windows decide
    assert [d["label"] for d in lines] == ["QPSK"] and 8 <= lines[0]["windows"] <= 8 + 40, lines


def test_live_flowgraphs_refuse_two_sample_rates_that_disagree(compiled, recording):
    for name in ("amc_headless", "amc_live"):
        r = subprocess.run(
            [PY, str(compiled / f"{name}.py"), *replay_args(recording), "--samp-rate", "1e6"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )  # fmt: skip
        assert r.returncode != 0, name
        assert "samp_rate 1e+06 and device_args rate=2e+06 differ" in r.stderr, r.stderr[-2000:]


def find(image, template):
    """Best normalised cross-correlation of a grey template anywhere in a grey image."""
    ih, iw = image.shape
    th, tw = template.shape
    t = template - template.mean()
    tn = np.sqrt((t**2).sum())
    win = np.lib.stride_tricks.sliding_window_view(image, (th, tw))[::1, ::1]
    best = 0.0
    for y in range(win.shape[0]):
        rows = win[y]
        m = rows.mean(axis=(1, 2), keepdims=True)
        d = rows - m
        score = (d * t).sum(axis=(1, 2)) / (np.sqrt((d**2).sum(axis=(1, 2))) * tn + 1e-9)
        best = max(best, float(score.max()))
    return best


RENDER = """
import sys
from PyQt5 import Qt
app = Qt.QApplication(sys.argv)
label = Qt.QLabel(sys.argv[1])
label.setStyleSheet("font-size: 28pt; font-weight: bold;")
label.adjustSize()
label.grab().save(sys.argv[2], "PNG")
"""


def grey(path):
    import matplotlib.image

    img = matplotlib.image.imread(str(path))
    return img[..., :3].mean(axis=2) if img.ndim == 3 else img


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs Xvfb (apt install xvfb)")
def test_qt_gui_shows_the_label_of_the_replayed_signal(compiled, recording, tmp_path, root):
    shot = tmp_path / "gui.png"
    proc = subprocess.Popen(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", PY, str(compiled / "amc_live.py"),
         *replay_args(recording), "--snapshot", str(shot)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not shot.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    os.killpg(proc.pid, 15)
    _, err = proc.communicate(timeout=30)
    assert shot.exists(), err[-3000:]
    # the label as Qt draws it in this font, searched for in the screenshot
    image = grey(shot)
    scores = {}
    for text in (REPLAY, "QAM64"):
        t = tmp_path / f"{text}.png"
        r = subprocess.run(["xvfb-run", "-a", PY, "-c", RENDER, text, str(t)], capture_output=True,
                           text=True, timeout=60)  # fmt: skip
        assert r.returncode == 0, r.stderr
        template = grey(t)
        h, w = template.shape
        scores[text] = find(image, template[h // 4 : 3 * h // 4, 2 : w - 2])  # the glyphs, not the margins
    assert scores[REPLAY] > 0.9, scores
    assert scores["QAM64"] < scores[REPLAY] - 0.1, scores
    assert "Traceback" not in err, err[-3000:]


def write_wav(path, x, rate):
    iq = np.stack([x.real, x.imag], axis=1)
    pcm = np.clip(iq * 2**14, -(2**15), 2**15 - 1).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(pcm.tobytes())


def amc(root, *args):
    return subprocess.run([str(root / ".venv/bin/amc"), *args], capture_output=True, text=True, timeout=300)


def test_amc_classify_reads_every_recording_type(root, default, tmp_path):
    n = default.lengths[0]
    x = make_signal("BPSK", 8, 40 * n, seed=5)
    x.tofile(tmp_path / "rec.cf32")
    np.save(tmp_path / "stream.npy", x)
    np.save(tmp_path / "windows.npy", x.reshape(40, n))
    write_wav(tmp_path / "rec.wav", x, 1e6)
    x.tofile(tmp_path / "rec.sigmf-data")
    meta = {"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6, "core:version": "1.0.0"},
            "captures": [{"core:sample_start": 0}], "annotations": []}  # fmt: skip
    (tmp_path / "rec.sigmf-meta").write_text(json.dumps(meta))
    results = {}
    for name in ("rec.cf32", "stream.npy", "windows.npy", "rec.wav", "rec.sigmf-meta"):
        # at the model's 8 sps already: the same windows from every format, no estimate
        r = amc(root, "classify", str(tmp_path / name), "--json", "--windows", "--no-estimate")
        assert r.returncode == 0, r.stderr
        rows = json.loads(r.stdout)["windows"]  # stdout is the JSON document alone
        assert len(rows) == 40, name
        results[name] = [row["label"] for row in rows]
    assert results["rec.cf32"] == results["stream.npy"] == results["windows.npy"] == results["rec.sigmf-meta"]
    assert np.mean(np.array(results["rec.wav"]) == np.array(results["rec.cf32"])) > 0.9  # 16-bit rounding
    assert np.mean(np.array(results["rec.cf32"]) == "BPSK") > 0.6
    meta = json.loads((tmp_path / "rec.sigmf-meta").read_text())
    annotated = meta["annotations"]
    # one annotation per segment (a run of one decision), covering the recording
    assert annotated and annotated[0]["core:sample_start"] == 0
    assert sum(a["core:sample_count"] for a in annotated) == 40 * n
    assert len(annotated) <= 4, annotated
    assert {"name": "amc", "version": "1.0.0", "optional": True} in meta["global"]["core:extensions"]
    assert all(a["amc:model"] == bundle.DEFAULT and a["amc:architecture"] == default.name for a in annotated)
    again = amc(root, "classify", str(tmp_path / "rec.sigmf-meta"), "--no-estimate")  # replaces, no pile
    assert again.returncode == 0 and "summary" in again.stdout
    meta_again = json.loads((tmp_path / "rec.sigmf-meta").read_text())
    assert meta_again["annotations"] == annotated
    assert meta_again["global"]["core:extensions"].count(
        {"name": "amc", "version": "1.0.0", "optional": True}
    ) == 1  # fmt: skip


def test_amc_classify_refuses_bad_recordings(root, tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    r = amc(root, "classify", str(tmp_path / "obj.npy"))
    assert r.returncode == 2 and "not a plain .npy" in r.stderr
    (tmp_path / "x.txt").write_text("hello")
    r = amc(root, "classify", str(tmp_path / "x.txt"))
    assert r.returncode == 2 and "unknown recording type" in r.stderr
    r = amc(root, "classify", str(tmp_path / "nothing.cf32"))
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = amc(root, "classify", str(tmp_path / "x.txt"), "--hop", "0")
    assert r.returncode == 2 and "--hop 0 must be > 0" in r.stderr


def test_amc_models_lists_the_default(root):
    r = amc(root, "models")
    assert r.returncode == 0, r.stderr
    assert f"{bundle.DEFAULT} (default)" in r.stdout


def test_amc_demo_prints_decisions(root):
    r = amc(root, "demo", "--segment", "16384")
    assert r.returncode == 0, r.stderr
    assert "gr-amc sensor demo" in r.stdout
    rows = [line.split() for line in r.stdout.splitlines() if line[:9].strip().isdigit()]
    assert rows, r.stdout
    assert all(len(row) >= 4 for row in rows)
    assert "dropped 0" in r.stdout
    # six modulations in turn, through the RML2016 fading channel: each is named, and nothing else
    # is (the decision may say unknown where a fade takes the confidence below the threshold)
    named = {}
    for _, truth, decision, _ in rows:
        named.setdefault(truth, set()).add(decision)
    assert list(named) == ["QPSK", "BPSK", "QAM16", "GFSK", "WBFM", "8PSK"], r.stdout
    assert rows[0][1] == rows[0][2], r.stdout  # the first decision is right (none is taken on one window)
    assert all(truth in said and said <= {truth, "unknown"} for truth, said in named.items()), r.stdout


def test_amc_classify_resamples_to_the_models_samples_per_symbol(root, recording):
    # the 16-sps recording, told its rates, is brought to the model's 8 sps first
    args = ["classify", str(recording), "--rate", str(SAMP_RATE), "--symbol-rate", str(SYMBOL_RATE)]
    r = amc(root, *args, "--json", "--windows")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    rows = report["windows"]
    assert abs(len(rows) - int(SAMP_RATE * 0.5 / 2) // 128) <= 2  # half the samples after resampling
    assert np.mean([row["label"] == REPLAY for row in rows]) > 0.8
    # offsets and times in the recording's own samples, not the resampled ones
    assert rows[1]["start"] == 256 and rows[1]["start_s"] == pytest.approx(256 / SAMP_RATE)
    assert report["segments"][-1]["end"] <= SAMP_RATE * 0.5
    assert report["recording"]["resampled_by"] == pytest.approx(0.5)


def test_amc_classify_says_what_is_in_a_one_signal_recording(root, recording, tmp_path):
    r = amc(root, "classify", str(recording), "--rate", str(SAMP_RATE), "--symbol-rate", str(SYMBOL_RATE))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # a header: the model, its window, the samples per symbol it expects, the sample rate
    assert f"model      {bundle.DEFAULT}" in out and "window 128" in out, out
    assert "expects 8 samples per symbol" in out and "at 2 MS/s" in out, out
    # few segments, the longest the replayed class, and a summary led by it
    segments = [
        line.split() for line in out.splitlines() if line.startswith("  ") and line.split()[0][0].isdigit()
    ]
    assert 1 <= len(segments) <= 3, out
    longest = max(segments, key=lambda row: int(row[4]))
    assert longest[5] == REPLAY, out
    summary = next(line for line in out.splitlines() if line.startswith("summary"))
    assert summary.split()[1] == REPLAY and float(summary.split()[2]) > 90, summary
    assert len(out.splitlines()) < 15  # not a line per window
    # and nothing from the libraries' start-up (xtrx probes, LiteRT's banner, GNU Radio's info log)
    for noise in ("xtrxdsp", "XNNPACK", ":info:"):
        assert noise not in out + r.stderr, (noise, out, r.stderr)
    # SigMF written with --symbol-rate: annotations in the recording's samples
    data = tmp_path / "rec.sigmf-data"
    data.write_bytes(recording.read_bytes())
    meta = {"global": {"core:datatype": "cf32_le", "core:sample_rate": SAMP_RATE, "core:version": "1.0.0"},
            "captures": [{"core:sample_start": 0}], "annotations": []}  # fmt: skip
    (tmp_path / "rec.sigmf-meta").write_text(json.dumps(meta))
    r = amc(root, "classify", str(tmp_path / "rec.sigmf-meta"), "--symbol-rate", str(SYMBOL_RATE))
    assert r.returncode == 0, r.stderr
    annotated = json.loads((tmp_path / "rec.sigmf-meta").read_text())["annotations"]
    assert (
        annotated
        and max(a["core:sample_start"] + a["core:sample_count"] for a in annotated) <= SAMP_RATE * 0.5
    )
    assert sum(a["core:sample_count"] for a in annotated) > 0.99 * SAMP_RATE * 0.5
    assert max(annotated, key=lambda a: a["core:sample_count"])["core:label"] == REPLAY
