"""The baseline on tiny generated data: it learns, it reproduces, it stops on time, it scales out, it reports.

Glyphs are the fixture fonts' dot-matrix letters drawn straight into 28x28 arrays, one "family" per
cell size / dot weight / slant, with a little jitter per image: a few hundred images that a small model
separates in seconds, while chance is 10%.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from fontfactory import DOT_MATRIX
from PIL import Image, ImageDraw

from fontglyphs.baseline import (
    REPORT_FILES,
    TrainConfig,
    check_compatible,
    dataset_sha256,
    default_run_name,
    evaluate,
    load_checkpoint,
    save_checkpoint,
    split_by_family,
)
from fontglyphs.baseline.train import (
    Timer,
    _global_batch_size,
    autocast,
    build_model,
    resolve_device,
    steps_within_budget,
    train,
    warm_up,
)
from fontglyphs.cli import cli
from fontglyphs.datasets import ArraySet
from fontglyphs.errors import DatasetError, UsageError

LETTERS = "ABCDEFGHIJ"
# Small models and batches for tiny data, trained on one thread (threads=1, --threads 1): for batches this
# small a second thread costs more in synchronisation than it saves.
TINY = {"net": {"cnn": {"widths": (8, 16, 32)}, "mlp": {"hidden": (128,)}}, "opt": {"batch_size": 32}}


def draw_glyph(letter: str, rng: np.random.Generator, cell: float, weight: float, slant: float) -> np.ndarray:
    """A dot-matrix letter drawn at 4x and reduced by area to 28x28, at a jittered position."""
    big = Image.new("L", (112, 112), 0)
    draw = ImageDraw.Draw(big)
    x0, y0 = rng.integers(6, 20), rng.integers(4, 12)
    for row_index, row in enumerate(DOT_MATRIX[letter]):
        for column, bit in enumerate(row):
            if bit == "1":
                x = x0 + column * cell + (6 - row_index) * cell * slant
                y = y0 + row_index * cell
                draw.rectangle([x, y, x + cell * weight, y + cell * weight], fill=255)
    return np.asarray(big.resize((28, 28), Image.BOX))


def glyph_set(families: int, seed: int, letters: str = LETTERS) -> ArraySet:
    rng = np.random.default_rng(seed)
    images, labels, names = [], [], []
    for family in range(families):
        cell, weight, slant = rng.uniform(9, 13), rng.uniform(0.6, 1.3), rng.uniform(-0.25, 0.25)
        for label, letter in enumerate(letters):
            images.append(draw_glyph(letter, rng, cell, weight, slant))
            labels.append(label)
            names.append(f"s{seed}f{family:03d}")
    names = np.asarray(names)
    return ArraySet(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(letters), names, names)


def write_split(root: Path, data: ArraySet, size: int = 28) -> Path:
    """The notMNIST layout without a manifest: <root>/<LETTER>/<family>.png (the file stem is the family)."""
    for image, label, family in zip(data.images, data.labels, data.families, strict=True):
        folder = root / data.letters[label]
        folder.mkdir(parents=True, exist_ok=True)
        picture = Image.fromarray(image, "L")
        (picture if size == 28 else picture.resize((size, size))).save(folder / f"{family}.png")
    return root


@pytest.fixture(scope="module")
def sets():
    return glyph_set(30, seed=1), glyph_set(8, seed=2)


@pytest.fixture(scope="module")
def split_dirs(tmp_path_factory, sets):
    root = tmp_path_factory.mktemp("splits")
    return write_split(root / "large", sets[0]), write_split(root / "small", sets[1])


def held_out(data: ArraySet, seed: int = 0) -> tuple[ArraySet, ArraySet]:
    train_index, val_index = split_by_family(data.families, 0.2, seed)
    return data.subset(train_index), data.subset(val_index)


@pytest.fixture(scope="module")
def trained_cnn(sets):
    train_set, val_set = held_out(sets[0])
    config = TrainConfig(model="cnn", device="cpu", epochs=12, seed=3, quiet=True, threads=1, hyp=TINY)
    model, history = train(config, train_set, val_set)
    return config, model, history


# ---------------------------------------------------------------------------------------------------
# Data protocol
# ---------------------------------------------------------------------------------------------------


def test_validation_holds_out_whole_families_seeded():
    families = np.repeat([f"family{i}" for i in range(20)], 10)
    train_index, val_index = split_by_family(families, 0.1, seed=0)
    assert set(families[train_index]).isdisjoint(families[val_index])
    assert len(set(families[val_index])) == 2 and len(train_index) + len(val_index) == 200
    assert np.array_equal(split_by_family(families, 0.1, seed=0)[1], val_index)
    assert not np.array_equal(split_by_family(families, 0.1, seed=1)[1], val_index)
    with pytest.raises(DatasetError, match="1 family"):
        split_by_family(np.asarray(["one"] * 5), 0.1, seed=0)


def test_compatibility_checks_are_one_line_errors(sets):
    large, small = sets
    resized = ArraySet(small.images[:, :20, :24], small.labels, small.letters, small.keys, small.families)
    with pytest.raises(
        DatasetError, match=r"small: images are 24x20 but the training images \(large\) are 28x28"
    ):
        check_compatible(large, resized, "large", "small")
    fewer = glyph_set(2, seed=5, letters="ABCDE")
    with pytest.raises(DatasetError, match="letters 'ABCDE' differ"):
        check_compatible(large, fewer, "large", "small")
    empty = large.subset(np.zeros(0, dtype=np.int64))
    with pytest.raises(DatasetError, match="large: the split has no images"):
        check_compatible(empty, small, "large", "small")


def test_checksum_and_run_name_are_deterministic(sets):
    large, small = sets
    assert dataset_sha256(large) == dataset_sha256(glyph_set(30, seed=1))
    assert dataset_sha256(large) != dataset_sha256(small)
    assert (
        default_run_name("cnn", "output/large/", "exports/notMNIST_small.h5", 7)
        == "cnn-large-notMNIST_small-seed7"
    )


# ---------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------


def test_cnn_learns_far_above_chance(trained_cnn, sets):
    _, model, history = trained_cnn
    test = evaluate(model, sets[1].images, sets[1].labels)
    assert test.accuracy >= 0.8, history.epochs  # chance is 0.1
    assert history.epochs[-1].val_accuracy >= 0.8
    assert history.epochs[-1].train_loss < history.epochs[0].train_loss
    assert history.images_per_second > 0 and not history.stopped_by_budget


def test_mlp_reference_learns_above_chance(sets):
    train_set, val_set = held_out(sets[0])
    config = TrainConfig(model="mlp", device="cpu", epochs=8, seed=0, quiet=True, threads=1, hyp=TINY)
    model, _ = train(config, train_set, val_set)
    assert evaluate(model, sets[1].images, sets[1].labels).accuracy >= 0.6


def test_same_seed_same_weights(sets):
    train_set, val_set = held_out(sets[0])
    config = TrainConfig(model="cnn", device="cpu", epochs=1, seed=11, quiet=True, threads=1, hyp=TINY)
    first, _ = train(config, train_set, val_set)
    second, _ = train(config, train_set, val_set)
    other, _ = train(dataclasses.replace(config, seed=12), train_set, val_set)
    for name, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[name]), name
    assert not torch.equal(first.state_dict()["0.0.weight"], other.state_dict()["0.0.weight"])


def test_checkpoint_round_trip_gives_identical_predictions(trained_cnn, sets, tmp_path):
    config, model, history = trained_cnn
    info = {
        "model": "cnn",
        "letters": list(LETTERS),
        "image_shape": [28, 28],
        "hyperparameters": history.hyperparameters,
    }
    save_checkpoint(tmp_path / "model.pt", model, info)
    loaded, checkpoint = load_checkpoint(tmp_path / "model.pt")
    assert checkpoint["letters"] == list(LETTERS)
    images = torch.as_tensor(sets[1].images).unsqueeze(1).float() / 255
    with torch.no_grad():
        assert torch.equal(model.eval()(images), loaded(images))
    before, after = (
        evaluate(model, sets[1].images, sets[1].labels),
        evaluate(loaded, sets[1].images, sets[1].labels),
    )
    assert np.array_equal(before.predictions, after.predictions) and before.loss == after.loss
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DatasetError, match="garbage.pt: not a fontglyphs baseline checkpoint"):
        load_checkpoint(tmp_path / "garbage.pt")


def test_cpu_default_has_a_time_budget_that_inf_lifts():
    assert TrainConfig().hyperparameters("cpu")["time_budget"] == 540
    assert TrainConfig().hyperparameters("cuda")["time_budget"] is None
    assert TrainConfig(time_budget=math.inf).hyperparameters("cpu")["time_budget"] is None
    assert TrainConfig(time_budget=30).hyperparameters("cuda")["time_budget"] == 30


def test_small_training_sets_get_smaller_batches():
    opt = TrainConfig().hyperparameters("cuda")["opt"]
    assert _global_batch_size(opt, 500_000, 16, 1) == 1024
    assert _global_batch_size(opt, 4_000, 16, 1) == 160  # 25 steps per epoch: 400 in all
    assert _global_batch_size(opt, 4_000, 16, 3) == 159  # the same slice for each of 3 processes
    assert (
        _global_batch_size(TrainConfig(batch_size=1024).hyperparameters("cuda")["opt"], 4_000, 16, 1) == 1024
    )
    with pytest.raises(DatasetError, match="only 3 training images"):
        _global_batch_size(opt, 3, 1, 2)


def test_budget_cuts_the_plan_only_when_it_binds():
    assert steps_within_budget(1000, 500, elapsed=10.0, budget=None) == 1000
    assert steps_within_budget(1000, 500, elapsed=10.0, budget=100.0) == 1000  # would finish in 20 s
    assert steps_within_budget(1000, 500, elapsed=10.0, budget=15.0) == 750  # the pace so far fits 750
    assert steps_within_budget(1000, 5, elapsed=0.5, budget=15.0) == 1000  # too early to tell
    assert steps_within_budget(1000, 5, elapsed=16.0, budget=15.0) == 5  # over: stop now


def test_time_budget_stops_training_and_anneals(sets):
    train_set, val_set = held_out(sets[0])
    config = TrainConfig(
        model="cnn", device="cpu", epochs=10_000, seed=0, quiet=True, threads=1, time_budget=1.5, hyp=TINY
    )
    model, history = train(config, train_set, val_set)
    assert history.stopped_by_budget and len(history.epochs) < 10_000
    assert history.wall_seconds < 1.5 + 5  # at most one step and one validation beyond the budget
    peak = history.hyperparameters["opt"]["lr"] * history.batch_size / 256
    assert history.epochs[-1].lr < 0.25 * peak  # the schedule ran to its end within the budget
    assert 0.0 <= evaluate(model, sets[1].images, sets[1].labels).accuracy <= 1.0


def test_gpu_only_helpers_run_on_cpu(sets):
    """The warm-up (compile/cuDNN autotuning) leaves the model as it was; timers and autocast switch off."""
    cpu = torch.device("cpu")
    hyp = TrainConfig(hyp=TINY).hyperparameters("cuda")
    assert hyp["bf16"] and hyp["opt"]["batch_size"] == 32 and hyp["net"]["cnn"]["widths"] == (8, 16, 32)
    model = build_model("cnn", hyp["net"], 10, (28, 28))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = torch.as_tensor(sets[0].images[:8]).unsqueeze(1).float() / 255
    warm_up(model, model, batch, torch.as_tensor(sets[0].labels[:8]), cpu, {**hyp, "bf16": False})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    timer = Timer(cpu)
    timer.start()
    timer.stop()
    assert timer.seconds >= 0
    with autocast(cpu, False):
        assert torch.ones(2).dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_but_absent_is_a_usage_error():
    with pytest.raises(UsageError, match="--device cuda: CUDA is not available"):
        resolve_device("cuda")


# ---------------------------------------------------------------------------------------------------
# The command: reports, errors, and several processes
# ---------------------------------------------------------------------------------------------------


def run_cli(train_dir: Path | str, test_dir: Path | str, *args: str):
    """``fontglyphs baseline --train TRAIN --test TEST ARGS`` on one thread (see TINY)."""
    command = ["baseline", "--train", str(train_dir), "--test", str(test_dir), "--threads", "1", *args]
    return CliRunner().invoke(cli, command, catch_exceptions=False)


def test_cli_writes_every_report(split_dirs, tmp_path):
    out = tmp_path / "out"
    options = ["--device", "cpu", "--epochs", "3", "--batch-size", "64", "--seed", "4"]
    result = run_cli(*split_dirs, *options, "--output", str(out))
    assert result.exit_code == 0, result.output
    run_dir = out / "baseline" / "cnn-large-small-seed4"
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(REPORT_FILES)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["images"] == 80 and len(metrics["test"]["confusion_matrix"]) == 10
    assert set(metrics["test"]["per_class_accuracy"]) == set(LETTERS)
    assert metrics["train"]["families"] == 30 and metrics["validation"]["families"] == 3
    assert metrics["training"]["epochs_completed"] == 3 and len(metrics["training"]["history"]) == 3
    assert metrics["seed"] == 4 and metrics["versions"]["torch"] == torch.__version__
    assert len(metrics["train"]["sha256"]) == 64
    for name in ("confusion.png", "mistakes.png", "curves.png"):
        with Image.open(run_dir / name) as picture:
            assert picture.width >= 300 and picture.height >= 100
    assert load_checkpoint(run_dir / "model.pt")[1]["letters"] == list(LETTERS)
    assert f"test        {metrics['test']['accuracy']:.2%} accuracy" in result.output
    assert str(run_dir) in result.output


def test_cli_quiet_prints_nothing(split_dirs, tmp_path):
    result = run_cli(
        *split_dirs, "--model", "mlp", "--epochs", "1", "--output", str(tmp_path), "--run", "q", "-q"
    )
    assert result.exit_code == 0 and result.output == ""
    assert (tmp_path / "baseline" / "q" / "metrics.json").is_file()


@pytest.fixture(scope="module")
def bad_splits(tmp_path_factory, sets):
    root = tmp_path_factory.mktemp("bad")
    (root / "empty" / "A").mkdir(parents=True)
    write_split(root / "big", sets[1], size=32)
    write_split(root / "fewer", glyph_set(3, seed=9, letters="ABCDE"))
    write_split(root / "onefamily", glyph_set(1, seed=9))
    return root


@pytest.mark.parametrize(
    ("train_name", "test_name", "extra", "message"),
    [
        ("large", "empty", [], "no images found"),
        ("large", "big", [], "images are 32x32 but the training images"),
        ("large", "fewer", [], "letters 'ABCDE' differ from the training letters 'ABCDEFGHIJ'"),
        ("onefamily", "small", [], "1 family; 2 or more are needed"),
        ("large", "missing", [], "missing: no such split or path"),
        ("large", "small", ["--run", "../escape"], "--run '../escape'"),
        pytest.param(
            "large",
            "small",
            ["--device", "cuda"],
            "--device cuda: CUDA is not available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(split_dirs, bad_splits, train_name, test_name, extra, message):
    good = split_dirs[0].parent

    def where(name):
        return str(good / name) if name in ("large", "small") else str(bad_splits / name)

    result = run_cli(where(train_name), where(test_name), "--epochs", "1", *extra)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_missing_matplotlib_fails_before_training(split_dirs, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` sees when it is absent
    result = run_cli(*split_dirs, "--epochs", "1")
    assert (
        result.exit_code == 2
        and result.output == "Error: the baseline's reports need matplotlib: pip install matplotlib\n"
    )


def test_two_gloo_processes_train_and_agree_with_one(split_dirs, tmp_path):
    """torchrun with 2 CPU processes: DDP trains the same global batches; only rank 0 writes reports."""
    options = ["--device", "cpu", "--epochs", "4", "--batch-size", "32", "--seed", "5", "--quiet"]
    assert run_cli(*split_dirs, *options, "--output", str(tmp_path / "one")).exit_code == 0
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    data = ["--train", str(split_dirs[0]), "--test", str(split_dirs[1])]
    command = [*torchrun, "-m", "fontglyphs", "baseline", *data, *options, "--output", str(tmp_path / "two")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert completed.returncode == 0, completed.stderr[-3000:]
    one, two = (
        json.loads((tmp_path / n / "baseline" / "cnn-large-small-seed5" / "metrics.json").read_text())
        for n in ("one", "two")
    )
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert sorted(os.listdir(tmp_path / "two" / "baseline")) == ["cnn-large-small-seed5"]
    assert two["training"]["steps"] == one["training"]["steps"]
    # Same images, order and augmentation; only per-process batch-norm statistics and summation order differ
    # (measured: final training loss 0.664 against 0.657, test accuracy 1.00 against 0.95).
    last_one, last_two = one["training"]["history"][-1], two["training"]["history"][-1]
    assert abs(last_one["train_loss"] - last_two["train_loss"]) < 0.1 * last_one["train_loss"]
    assert abs(one["test"]["accuracy"] - two["test"]["accuracy"]) <= 0.15
    assert two["test"]["accuracy"] >= 0.7
