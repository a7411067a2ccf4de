# SPDX-License-Identifier: GPL-3.0-or-later
"""amc train and amc evaluate on a small generated dataset."""

import dataclasses
import json
import os
import subprocess
import time

import numpy as np
import pytest
import yaml

from gnuradio.amc.datasets import generate as dataset
from gnuradio.amc.datasets.generate import Config
from gnuradio.amc.ml import data as mldata
from gnuradio.amc.ml import evaluation, export, models, quantize, training
from gnuradio.amc.ml.record import TrainRecord
from gnuradio.amc.runtime import features, waveforms


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """Two classes (BPSK against WBFM) at high SNR: a model must learn them."""
    path = tmp_path_factory.mktemp("data") / "small.h5"
    cfg = Config(("BPSK", "WBFM"), (8,), (128,), (20, 30), 300, channel="awgn", seed=1)
    dataset.generate(cfg, str(path), "hdf5", quiet=True)
    return path


def test_prior_correction_gives_the_probabilities_of_equal_classes():
    # a softmax trained on classes in shares 0.6/0.3/0.1 answers p(x|c) * share; corrected, p(x|c)
    import keras

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="probabilities")(inp))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    before = model.predict(x, verbose=0)
    prior = np.array([0.6, 0.3, 0.1])
    training.correct_prior(model, prior)
    after = model.predict(x, verbose=0)
    expected = before / prior
    np.testing.assert_allclose(after, expected / expected.sum(axis=1, keepdims=True), rtol=1e-4)


def test_split_is_6_2_2_in_every_cell_and_disjoint(small_data):
    data = mldata.open_data(str(small_data))
    parts = mldata.split(data, seed=3)
    assert [len(p) for p in parts] == [720, 240, 240]
    assert len(np.unique(np.concatenate(parts))) == len(data)
    for p in parts:
        cells = np.unique(np.stack([data.y[p], data.snr[p]]), axis=1)
        assert cells.shape[1] == 4
    again = mldata.split(data, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def test_every_batch_mixes_classes_and_snrs():
    # rows sorted by class then SNR, as dataset files are: batches must still mix them
    n_cls, n_snr, per = 11, 20, 101
    y = np.repeat(np.arange(n_cls), n_snr * per)
    snr = np.tile(np.repeat(np.arange(n_snr), per), n_cls)
    x = np.zeros((len(y), 16, 2), np.float32)
    x[:, :, 0] = 1.0
    data = mldata.Data("mem", [str(i) for i in range(n_cls)], y, snr, 16, x)
    spec = features.VectorSpec(16, normalization="none")
    seen = 0
    for _vectors, labels in mldata.batches(data, np.arange(len(y)), spec, 400, np.random.default_rng(0)):
        seen += len(labels)
        assert len(labels) == 400  # a fixed shape for the model
        assert len(np.unique(labels)) == n_cls
        assert np.bincount(labels, minlength=n_cls).max() < 80  # about 36 each
    assert seen == len(y) // 400 * 400


def test_augmentation_changes_phase_and_keeps_power():
    x = np.exp(2j * np.pi * 0.05 * np.arange(64))[None, :].repeat(4, axis=0).astype(np.complex64)
    y = mldata.Augment(phase=True, freq=0.01, shift=5)(x, np.random.default_rng(0))
    np.testing.assert_allclose(np.abs(y), 1.0, rtol=1e-5)
    assert not np.allclose(y, x)


def test_two_runs_of_one_model_are_told_apart_in_the_evaluation(tmp_path):
    # comparing a model with and without augmentation: rows, curves and confusion files by run
    runs = {"runs/vgg": "vgg_cnn", "runs/vgg_aug": "vgg_cnn", "runs/pet": "pet_cgdnn", "more/vgg": "cnn2"}
    for run, model in runs.items():
        (tmp_path / run).mkdir(parents=True)
        TrainRecord(model, 1, ["a", "b"], {"window": 128}, False, "/data/x.h5", "0" * 64, 0).write(
            str(tmp_path / run)
        )
    labels = evaluation.run_labels([str(tmp_path / r) for r in ("runs/vgg", "runs/vgg_aug", "runs/pet")])
    assert sorted(labels.values()) == ["pet_cgdnn", "vgg", "vgg_aug"]
    same_dirs = evaluation.run_labels([str(tmp_path / r) for r in ("runs/vgg", "runs/vgg_aug", "more/vgg")])
    assert len(set(same_dirs.values())) == 3 and "cnn2" in same_dirs.values()
    assert not any("/" in name for name in same_dirs.values())  # names become file names


def amc_run(root, *args):
    return subprocess.run([str(root / ".venv/bin/amc"), *map(str, args)], capture_output=True, text=True,
                          timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def trained_run(small_data, tmp_path_factory, root):
    """One short `amc train` run that the tests of evaluate, quantize and prune share."""
    run = tmp_path_factory.mktemp("trained") / "run"
    r = amc_run(root, "train", "--model", "cnn2", "--data", small_data, "--out", run, "--epochs", 6,
                "--batch", 32, "--seed", 1, "--augment-phase")  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Epoch 6/6" in r.stdout + r.stderr
    return run


def test_train_writes_the_model_and_its_record(trained_run):
    info = TrainRecord.read(str(trained_run))
    assert info.model == "cnn2" and info.params == models.build("cnn2", 2, 128).count_params()
    assert info.spec["normalization"] == "rms" and info.spec["layout"] == "channels_first"
    assert info.seconds_per_epoch > 0 and len(info.data_sha256) == 64 and info.epochs_run == 6
    assert (trained_run / "model.keras").exists() and (trained_run / "curves.png").stat().st_size > 10_000


def test_evaluate_writes_the_table_curves_and_confusion(trained_run, tmp_path, root):
    ev = tmp_path / "eval"
    r = amc_run(root, "evaluate", trained_run, "--out", ev, "--confusion-snr", 30)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"| cnn2 | {TrainRecord.read(str(trained_run)).params:,} |" in r.stdout
    acc = json.loads((ev / "accuracy.json").read_text())["cnn2"]
    assert acc["30"] > 0.8  # BPSK and WBFM at 30 dB are told apart after a few epochs
    assert (ev / "accuracy.png").exists() and (ev / "confusion_cnn2_30dB.png").exists()
    assert (ev / "table.csv").read_text().startswith("model,parameters,training s/epoch")


def test_export_says_the_accuracy_it_records(trained_run, tmp_path, root):
    r = amc_run(root, "export", trained_run, "--out", tmp_path / "b")
    assert r.returncode == 0, r.stderr[-3000:]
    line = next(x for x in r.stdout.splitlines() if x.startswith("test accuracy"))
    recorded = yaml.safe_load((tmp_path / "b" / "bundle.yaml").read_text())["evaluation"]
    assert f"overall {100 * recorded['overall']:.2f} %" in line and "(chance 50.0 %)" in line, line
    assert "barely above chance" not in r.stderr  # BPSK against WBFM: far above
    r = amc_run(root, "export", trained_run, "--out", tmp_path / "w", "--quantization", "int8-weights")
    assert r.returncode == 0, r.stderr[-3000:]
    meta = yaml.safe_load((tmp_path / "w" / "bundle.yaml").read_text())
    assert meta["quantization"].startswith("int8 weights") and "float Keras" in meta["evaluation"]["model"]
    float_size = (tmp_path / "b" / "model_128.tflite").stat().st_size
    assert (tmp_path / "w" / "model_128.tflite").stat().st_size < float_size / 2


def test_int8_quantisation_is_smaller_and_still_tells_them_apart(trained_run, tmp_path, root):
    r = amc_run(root, "quantize", trained_run, "--out", tmp_path / "q", "--calibration", 64)
    assert r.returncode == 0, r.stderr[-3000:]
    for kind in ("int8", "float32", "int8-weights"):
        assert f"| cnn2 {kind} |" in r.stdout
    q = json.loads((tmp_path / "q" / "accuracy.json").read_text())
    assert q["int8"]["30"] >= q["float32"]["30"] - 0.1
    sizes = {k: (tmp_path / "q" / k / "model_128.tflite").stat().st_size for k in ("float32", "int8")}
    assert sizes["int8"] < sizes["float32"] / 2


@pytest.fixture(scope="module")
def pruned(trained_run, tmp_path_factory, root):
    out = tmp_path_factory.mktemp("pruned") / "pruned"
    args = ["--sparsity", "0.5", "0.9", "--epochs", "2", "--batch", "32", "--frequency", "5"]
    r = amc_run(root, "prune", trained_run, "--out", out, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "| 0 (original) |" in r.stdout and "| 0.9 |" in r.stdout
    return out, args


def test_pruning_reaches_the_sparsity_and_the_model_still_works(trained_run, pruned):
    # Zhang et al. 2021 Table II's procedure: the kernels reach the sparsity
    import keras

    from gnuradio.amc.ml import pruning

    out, _ = pruned
    acc = json.loads((out / "accuracy.json").read_text())
    assert acc["0.5"]["30"] >= acc["0"]["30"] - 0.15
    params = TrainRecord.read(str(trained_run)).params
    for s in (0.5, 0.9):
        model = keras.saving.load_model(out / f"sparsity_{s:.2f}" / "model.keras", safe_mode=True)
        for k in pruning.prunable(model):
            assert abs(np.mean(np.asarray(k) == 0) - s) < 0.01, k.path
        nnz = TrainRecord.read(str(out / f"sparsity_{s:.2f}")).pruned["nonzero"]
        assert nnz == pruning.nonzero(model) < (1 - s + 0.05) * params
    assert (out / "accuracy.png").exists()


def test_pruning_run_again_reuses_what_is_done_and_refuses_bad_options(trained_run, pruned, root):
    out, args = pruned
    r = amc_run(root, "prune", trained_run, "--out", out, *args)
    assert r.returncode == 0 and r.stdout.count("already pruned") == 2, r.stderr[-3000:]
    for bad in (["--keep", "no_such_layer"], ["--scope", "network"], ["--lr", "0"]):
        r = amc_run(root, "prune", trained_run, "--out", out, *args, *bad)
        assert r.returncode != 0 and bad[0][2:] in r.stderr and "Traceback" not in r.stderr


def test_training_on_generated_windows_resumes_and_evaluates(tmp_path, root):
    # amc train --generate: a new batch every step, a fixed generated validation set, resumable
    run = tmp_path / "gen"
    args = ["train", "--model", "vgg_cnn", "--generate", "rml2016_random", "--length", 128, "--epochs", 2,
            "--steps-per-epoch", 3, "--batch", 32, "--val-windows", 256, "--out", run]  # fmt: skip
    r = amc_run(root, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    info = TrainRecord.read(str(run))
    assert info.data == "generate:rml2016_random" and info.classes == list(waveforms.RML2016_CLASSES)
    assert info.data_attrs["ranges"]["rolloff"] == [0.15, 0.5] and info.epochs_run == 2
    result = evaluation.evaluate_run(str(run))  # a generated test set that no batch shares
    assert result["classes"] == info.classes and len(result["per_class"]) == 11
    # a run resumed at epoch e continues the stream at batch e * steps, never repeating one
    cfg = training.TrainConfig("vgg_cnn", None, str(tmp_path / "y"), length=128, batch=16,
                               generate="rml2016_random", steps_per_epoch=3, val_windows=64)  # fmt: skip
    source = training.generated_source(cfg)
    resumed = next(source.batches(2))[0]
    stream = source.batches(0)
    first_seven = [next(stream)[0] for _ in range(7)]
    np.testing.assert_array_equal(resumed, first_seven[6])
    bad = amc_run(
        root, "train", "--model", "vgg_cnn", "--generate", "no_such", "--length", 128, "--out", tmp_path / "x"
    )
    assert bad.returncode == 2 and "neither a preset" in bad.stderr


def test_variable_length_training_on_generated_windows_from_a_shipped_bundle(tmp_path, root):
    # the variable-length model's recipe: every length in turn, 4 and 8 sps, from the bundle's weights
    cfg = training.TrainConfig("lstm_ap", None, str(tmp_path / "v"), length=[64, 128], batch=16, epochs=1,
                               generate="modified_random", steps_per_epoch=4, val_windows=64,
                               init=str(root / "python/amc/bundles/modified_lstm_ap"))  # fmt: skip
    stream = training.generated_source(cfg).batches(0)
    assert [next(stream)[0].shape[1] for _ in range(4)] == [64, 128, 64, 128]
    info = training.train(cfg, log=lambda *a: None)
    assert info.lengths == [64, 128] and info.data_attrs["sps"] == [4, 8]
    assert info.config["init"].endswith("modified_lstm_ap")
    with pytest.raises(ValueError, match="init: .* is a lstm_ap model"):  # a bundle of another model
        training.train(training.TrainConfig("res_cnn", None, str(tmp_path / "w"), length=128,
                                            generate="rml2016_random", init=cfg.init))  # fmt: skip


def test_killed_run_resumes_with_its_whole_history(small_data, tmp_path, root):
    """A run killed mid-training (here most likely while writing its files) resumes from its
    last backup and reports every epoch (the tables' s/epoch and the curves)."""
    run = tmp_path / "run"
    cmd = [str(root / ".venv/bin/amc"), "train", "--model", "vgg_cnn", "--data", str(small_data),
           "--out", str(run), "--epochs", "15", "--batch", "32", "--seed", "1"]  # fmt: skip
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = run / "epochs.json"
    deadline = time.monotonic() + 300
    # killed once two epochs are logged: the first is surely backed up (the last may be run again)
    while not (log.exists() and len(json.loads(log.read_text())) >= 2) and p.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    p.kill()
    p.wait()
    before = json.loads(log.read_text())
    assert not (run / "train.json").exists() and 2 <= len(before) < 15
    r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads((run / "train.json").read_text())
    assert info["epochs_run"] == 15 and len(info["history"]["loss"]) == 15
    assert info["history"]["loss"][0] == pytest.approx(before[0]["loss"])
    log = json.loads(log.read_text())
    assert [e["epoch"] for e in log] == list(range(15)) and not (run / "backup").exists()
    assert info["history"]["val_loss"][0] == pytest.approx(before[0]["val_loss"])


def test_resumed_run_without_epoch_log_keeps_its_better_best_model(tmp_path):
    """A run begun before epochs.json existed: its best.keras is replaced after the resume only
    by an epoch whose validation loss beats that model's (a gr-amc 0.x run lost its best this way)."""
    model = models.build("vgg_cnn", 11, 128)
    model.save(tmp_path / "best.keras")
    run_files = training.run_files_callback(str(tmp_path), resume=True)
    run_files.set_model(model)
    run_files.forget_from(18, best_loss=lambda: 1.25)
    best = tmp_path / "best.keras"
    saved = best.stat().st_mtime_ns
    for epoch, loss in ((18, 1.33), (19, 1.26)):  # worse than the best before the resume
        run_files.on_epoch_begin(epoch)
        run_files.on_epoch_end(epoch, {"loss": 1.0, "val_loss": loss})
    assert best.stat().st_mtime_ns == saved
    run_files.on_epoch_begin(20)
    run_files.on_epoch_end(20, {"loss": 1.0, "val_loss": 1.2})
    assert best.stat().st_mtime_ns != saved
    assert [e["epoch"] for e in json.loads((tmp_path / "epochs.json").read_text())] == [18, 19, 20]


def test_pruning_scope_and_kept_layers():
    from gnuradio.amc.ml import pruning

    model = models.build("pet_cgdnn", 11, 128)
    kept = pruning.prunable(model, keep=["phase_estimator"])
    assert len(kept) == len(pruning.prunable(model)) - 1
    assert not any(v.path.startswith("phase_estimator/") for v in kept)
    rng = np.random.default_rng(0)
    small, large = rng.standard_normal((100, 10)), 10 * rng.standard_normal((100, 30))
    per_layer = pruning._masks([small, large], 0.5, "layer")
    assert [m.mean() for m in per_layer] == [0.5, 0.5]
    small_mask, large_mask = pruning._masks([small, large], 0.5, "global")
    assert (small_mask.sum() + large_mask.sum()) / (small.size + large.size) == 0.5
    assert small_mask.mean() < 0.1 < 0.6 < large_mask.mean()  # one threshold: the larger weights stay


def test_cubic_sparsity_schedule_is_002_equation_3():
    s = [training_sparsity(t) for t in range(0, 1200, 50)]
    assert s[0] == 0.0 and s[-1] == 0.8
    assert all(a <= b for a, b in zip(s, s[1:], strict=False))  # never falls
    assert training_sparsity(500) == pytest.approx(0.8 * (1 - 0.5**3))  # half way: 7/8 of the target
    assert training_sparsity(549) == training_sparsity(500)  # held between mask updates (dt = 100)
    with pytest.raises(ValueError, match="sparsity"):
        training_sparsity(0, final=1.0)


def training_sparsity(step, final=0.8):
    from gnuradio.amc.ml import pruning

    return pruning.cubic_sparsity(step, final, end=1000, frequency=100)


def test_bad_training_requests(small_data, tmp_path):
    with pytest.raises(ValueError, match="model"):
        training.TrainConfig("resnet", str(small_data), str(tmp_path)).check()
    with pytest.raises(ValueError, match="data"):
        training.TrainConfig("gru2", str(tmp_path / "none.h5"), str(tmp_path)).check()
    with pytest.raises(ValueError, match="batch"):
        training.TrainConfig("gru2", str(small_data), str(tmp_path), batch=0).check()
    with pytest.raises(ValueError, match="snr_min"):
        training.TrainConfig("gru2", str(small_data), str(tmp_path), snr_min=10, snr_max=0).check()
    with pytest.raises(ValueError, match="init"):
        training.TrainConfig("gru2", str(small_data), str(tmp_path), init=str(tmp_path)).check()


def test_variable_length_model_trains_on_several_lengths_and_tests_on_an_unseen_one(tmp_path):
    data = tmp_path / "multi.h5"
    dataset.generate(Config(("BPSK", "WBFM"), (4, 8), (64, 128), (30,), 60, channel="awgn", seed=2),
                     str(data), "hdf5", quiet=True)  # fmt: skip
    unseen = tmp_path / "l32.h5"
    dataset.generate(Config(("BPSK", "WBFM"), (8,), (32,), (30,), 40, channel="awgn", seed=3),
                     str(unseen), "hdf5", quiet=True)  # fmt: skip
    run = tmp_path / "run"
    cfg = training.TrainConfig("lstm_ap", str(data), str(run), length=[64, 128], epochs=2, batch=16)
    info = training.train(cfg, log=lambda *a: None)
    assert info.lengths == [64, 128] and info.variable_length
    steps = sum(len(mldata.split(mldata.open_data(str(data), n), 0)[0]) // 16 for n in (64, 128))
    assert len(info.history["loss"]) == 2 and steps > 0
    results = evaluation.evaluate([str(run)], str(tmp_path / "ev"), log=lambda *a: None, data=str(unseen))
    trained = evaluation.evaluate([str(run)], str(tmp_path / "ev2"), log=lambda *a: None)
    assert [r["name"] for r in trained] == ["lstm_ap (64)", "lstm_ap (128)"]  # a row per trained length
    assert "lstm_ap (128) 4 sps" in json.loads((tmp_path / "ev2" / "accuracy.json").read_text())
    assert (tmp_path / "ev2" / "accuracy_per_sps.png").exists()
    assert results[0]["classes"] == ["BPSK", "WBFM"] and 30 in results[0]["per_snr"]
    # what its bundle records: every trained length, per sps, and the unseen length
    ev = evaluation.bundle_evaluation(str(run), [str(unseen)], log=lambda *a: None)
    assert list(ev["per_length"]) == [64, 128, 32]
    assert "length not trained on" in ev["per_length"][32]["split"]
    assert set(ev["per_length"][128]) >= {"per_snr_4sps", "per_snr_8sps", "highest", "average"}
    assert ev["highest"] == ev["per_length"][64]["highest"]
    # int8 (004 VI-E) at every trained length, each against its float model
    q = quantize.quantize(str(run), str(tmp_path / "q"), calibration=32, log=lambda *a: None)
    assert set(q) == {f"{k} ({n})" for k in ("float32", "int8", "int8-weights") for n in (64, 128)}
    assert abs(q["int8-weights (128)"]["average"] - q["float32 (128)"]["average"]) < 0.05
    with pytest.raises(ValueError, match="calibration"):  # no vectors: no silent float "int8"
        quantize.quantize(str(run), str(tmp_path / "q0"), calibration=0, log=lambda *a: None)
    with pytest.raises(ValueError, match="int8_calibration"):
        export.export(str(run), str(tmp_path / "b0"), lengths=[64], quantization="int8", int8_calibration={})
    with pytest.raises(ValueError, match="quantization"):
        export.export(str(run), str(tmp_path / "b1"), quantization="int4")
    assert q["int8-weights (128)"]["bytes"] < q["float32 (128)"]["bytes"]
    # a curriculum: continue from that run's weights on one SNR and length
    cfg = training.TrainConfig("lstm_ap", str(data), str(tmp_path / "next"), length=[128], epochs=1, batch=16,
                               snr_min=30, init=str(run))  # fmt: skip
    again = training.train(cfg, log=lambda *a: None)
    assert again.data_attrs["snr_range"] == [30, 30] and again.config["init"] == str(run)
    with pytest.raises(ValueError, match="init: .* is a lstm_ap model"):
        training.train(
            training.TrainConfig("gru2", str(data), str(tmp_path / "y"), length=[128], init=str(run))
        )
    with pytest.raises(ValueError, match="no vectors"):
        training.train(
            training.TrainConfig("lstm_ap", str(data), str(tmp_path / "z"), length=[128], snr_min=40)
        )
    with pytest.raises(ValueError, match="takes one length"):
        training.train(training.TrainConfig("cnn2", str(data), str(tmp_path / "x"), length=[64, 128]))


def test_training_benchmark_reports_seconds_per_epoch(root, tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([str(root / ".venv/bin/amc"), "bench", "training", "--models", "pet_cgdnn", "vgg_cnn",
                        "--steps", "2", "--warmup", "1", "--json", str(out)],
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert "| pet_cgdnn | 71,871 |" in r.stdout
    rows = json.loads(out.read_text())["results"]
    for row in rows:  # 330 steps of 400 make an RML2016.10a-size epoch
        assert row["seconds_per_epoch"] == pytest.approx(330 * row["ms_per_step"] / 1000)
    r = subprocess.run([str(root / ".venv/bin/amc"), "bench", "training", "--models", "resnet"],
                       capture_output=True, text=True, timeout=600)  # fmt: skip
    assert r.returncode != 0 and "resnet" in r.stderr and "Traceback" not in r.stderr


def run_example(root, script: str, tmp_path, env: dict) -> subprocess.CompletedProcess:
    """One of examples/zoo/'s scripts, tiny, working in tmp_path/work and writing tmp_path/docs."""
    r = subprocess.run(
        [str(root / "examples/zoo" / script), str(tmp_path / "work")],
        env={**os.environ, "DOCS": str(tmp_path / "docs"), **env},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r


def test_zoo_reproduction_script_runs_and_resumes(root, tmp_path):
    """examples/zoo/reproduce_rml2016.sh, tiny: two models, one epoch, a small set."""
    env = dict(
        EPOCHS="1",
        MODELS="pet_cgdnn vgg_cnn",
        DATA_ARGS="--preset rml2016.10a --compat --classes BPSK WBFM --snr 10 18 --per 40 --seed 1"
        " --format hdf5 --jobs 1 --quiet",
        PRUNE_ARGS="--sparsity 0.5 --epochs 1 --batch 32",
    )
    run_example(root, "reproduce_rml2016.sh", tmp_path, env)
    table = (tmp_path / "docs" / "table.md").read_text()
    assert "| pet_cgdnn |" in table and "| vgg_cnn |" in table
    assert "| 0.5 |" in (tmp_path / "docs" / "pruning" / "table.md").read_text()
    int8 = (tmp_path / "docs" / "int8" / "table.md").read_text()
    assert "| pet_cgdnn int8 |" in int8 and "| vgg_cnn int8-weights |" in int8  # every model quantised
    record = json.loads((tmp_path / "docs" / "runs" / "vgg_cnn" / "train.json").read_text())
    assert record["command"].startswith("amc train --model vgg_cnn")  # how the committed run was made
    again = run_example(root, "reproduce_rml2016.sh", tmp_path, env)
    assert "Epoch 1/1" not in again.stdout  # nothing trained twice


def test_004_variable_length_script_trains_two_stages_and_tests_the_unseen_length(root, tmp_path):
    """examples/zoo/reproduce_004.sh, tiny: both stages, then the test on never-seen 64 samples."""
    env = dict(
        EPOCHS1="1", EPOCHS2="1", DATA_ARGS="--classes BPSK WBFM --snr 10 20 --per 12 --jobs 1 --quiet"
    )
    run_example(root, "reproduce_004.sh", tmp_path, env)
    stage2 = json.loads((tmp_path / "docs" / "runs" / "lstm_ap_s2" / "train.json").read_text())
    assert stage2["lengths"] == [128, 256, 512] and stage2["data_attrs"]["snr_range"] == [10, 20]
    assert "--init" in stage2["command"] and "--snr-min -10" in stage2["command"]
    unseen = json.loads((tmp_path / "docs" / "unseen64" / "accuracy.json").read_text())
    assert {"lstm_ap 4 sps", "lstm_ap 8 sps"} <= set(unseen)  # 004 Fig. 8's curves, per sps
    per_snr = 2 * 2 * 12  # classes x sps x per: all of the 64-sample file is scored
    assert all(abs(a * per_snr - round(a * per_snr)) < 1e-9 for a in unseen["lstm_ap"].values())
    assert (tmp_path / "docs" / "confusion_lstm_ap_512_20dB.png").exists()  # trained lengths too


def test_a_bundle_is_evaluated_on_the_test_split_a_run_held_out(trained_run, small_data, tmp_path, root):
    # a model trained elsewhere (the stream) is compared on a dataset's test split beside the
    # runs trained on it: --test-split SEED picks the rows a run with that seed never saw
    b = tmp_path / "bundle"
    assert amc_run(root, "export", trained_run, "--out", b, "--no-evaluate").returncode == 0
    own = evaluation.evaluate([str(trained_run)], str(tmp_path / "own"), log=lambda *a: None)[0]
    r = amc_run(
        root, "evaluate", b, trained_run, "--data", small_data, "--test-split", 1, "--out", tmp_path / "ev"
    )
    assert r.returncode == 0, r.stderr[-3000:]
    acc = json.loads((tmp_path / "ev" / "accuracy.json").read_text())
    assert acc["bundle"] == acc["cnn2"] == {str(k): v for k, v in own["per_snr"].items()}
    assert f"| bundle | {TrainRecord.read(str(trained_run)).params:,} |" in r.stdout
    whole = evaluation.evaluate([str(b)], str(tmp_path / "all"), log=lambda *a: None, data=str(small_data))[0]
    assert whole["confusion"][30].sum() == 5 * own["confusion"][30].sum()  # without it: all of the file
    r = amc_run(root, "evaluate", b, "--out", tmp_path / "no")
    assert r.returncode != 0 and "data" in r.stderr and "bundle" in r.stderr


def test_a_file_mixed_into_the_generated_stream(small_data, tmp_path):
    # --generate with --data --file-share: that share of the steps are batches of the file's
    # training split (never its validation or test rows), the rest the stream's
    ranges = tmp_path / "two.yaml"
    ranges.write_text(yaml.safe_dump({"classes": ["BPSK", "WBFM"], "sps": [8], "snr_db": [20, 30]}))
    cfg = training.TrainConfig("vgg_cnn", str(small_data), str(tmp_path / "mix"), length=128, batch=16,
                               generate=str(ranges), steps_per_epoch=200, val_windows=64,
                               file_share=0.3)  # fmt: skip
    source = training.mixed_source(cfg)
    data = mldata.open_data(str(small_data))
    parts = mldata.split(data, cfg.seed)
    spec = models.MODELS["vgg_cnn"].spec(128)
    vectors = [features.transform(data.windows(p), spec)[0].reshape(len(p), -1) for p in parts]

    def row_of(v, k):
        return np.flatnonzero(np.all(np.isclose(vectors[k], v.ravel()[None], atol=1e-6), axis=1))

    stream, from_file = source.batches(0), 0
    for _ in range(cfg.steps_per_epoch):
        x, y = next(stream)
        assert x.shape == (16, *spec.shape) and y.shape == (16,)
        hit = len(row_of(x[0], 0)) > 0
        from_file += hit
        if hit:
            assert not len(row_of(x[0], 1)) and not len(row_of(x[0], 2))
    assert 0.2 < from_file / cfg.steps_per_epoch < 0.4
    assert len(source.val[1]) == 2 * 64  # generated windows and as many of the file's validation rows
    info = training.train(dataclasses.replace(cfg, steps_per_epoch=3, epochs=1), log=lambda *a: None)
    assert info.data.startswith("generate:") and info.data_attrs["mixed_with"]["share"] == 0.3
    assert info.data_attrs["mixed_with"]["data"] == os.path.abspath(small_data)
    for bad, what in (({"file_share": 1.0}, "file_share"), ({"generate": None}, "file_share"),
                      ({"length": 256}, "data")):  # fmt: skip
        with pytest.raises(ValueError, match=what):
            training.train(dataclasses.replace(cfg, **bad), log=lambda *a: None)
