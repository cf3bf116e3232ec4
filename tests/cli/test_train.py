"""`sapool train` and `sapool eval` end to end: real Fashion-MNIST runs, resume, determinism, torchrun, bad inputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from sapool.cli import main
from sapool.train.checkpoint import load_checkpoint
from sapool.data.datasets import FASHION_MNIST_DIR

pytestmark = pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")

# A small, fast network: most tests only need a valid checkpoint, not a good one. One thread: the tests share the
# machine's two cores with other work, where two OpenMP threads per process run several times slower.
FAST = ["--arch", "mcunet", "--width", "0.25", "--pool", "max", "--input-size", "32", "--downsample", "standard",
        "--batch-size", "64", "--threads", "1", "-q"]
OLD_BYTES = b"previous model, must survive a failed run"


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """--threads changes this (test) process's torch thread count; put it back for whatever runs next."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _sapool(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def _assert_error(result, message: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One epoch on 256 images: a valid checkpoint for the eval and resume tests."""
    path = tmp_path_factory.mktemp("trained") / "model.pt"
    result = _sapool("train", *FAST, "--subset", 256, "--epochs", 1, "-o", path)
    assert result.exit_code == 0, result.output
    return path


@pytest.mark.slow
def test_short_run_on_real_fashion_mnist_learns(tmp_path):
    """2k real images, 3 epochs at 32×32: loss falls and held-out accuracy is far above chance (10%)."""
    path = tmp_path / "model.pt"
    result = _sapool("train", "--arch", "mcunet", "--width", "0.5", "--pool", "max", "--input-size", "32",
                     "--downsample", "standard", "--batch-size", "64", "--threads", "1", "--subset", 2000, "--epochs", 3, "--lr", "0.1",
                     "--json", "-o", path)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    history = load_checkpoint(path).metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert summary["test_images"] == 2000 and summary["train_images"] == 2000
    assert summary["test_accuracy"] > 0.4, summary
    assert summary["test_loss"] < 2.0  # chance is ln(10) ≈ 2.30


def test_eval_reports_the_checkpoint_accuracy(trained):
    result = _sapool("eval", trained, "--threads", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["test_images"] == 10000 and report["dataset"] == "fashion-mnist"
    assert 0.0 <= report["test_accuracy"] <= 1.0 and report["test_loss"] > 0
    text = _sapool("eval", trained, "--threads", "1")
    assert "test accuracy" in text.stdout and "10000 images of fashion-mnist" in text.stdout


def test_checkpoint_describes_itself(trained):
    checkpoint = load_checkpoint(trained)
    assert checkpoint.config.input_size == 32 and checkpoint.config.num_classes == 10
    assert checkpoint.config.in_channels == 1 and checkpoint.dataset == "fashion-mnist"
    assert checkpoint.class_names[9] == "Ankle boot"
    assert checkpoint.normalization.mean[0] == pytest.approx(0.286, abs=0.02)
    assert checkpoint.train_args["subset"] == 256 and checkpoint.train_args["seed"] == 0
    assert checkpoint.training_state["epoch"] == 1 and "optimizer" in checkpoint.training_state


def test_same_seed_same_weights(tmp_path):
    paths = [tmp_path / f"{name}.pt" for name in ("a", "b", "c")]
    for path, seed in zip(paths, (7, 7, 8)):
        assert _sapool("train", *FAST, "--subset", 128, "--epochs", 1, "--seed", seed, "-o", path).exit_code == 0
    first, second, other = (load_checkpoint(p).state_dict for p in paths)
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert any(not torch.equal(first[name], other[name]) for name in first)


def test_resume_continues_the_epoch_count(trained, tmp_path):
    resumed = tmp_path / "resumed.pt"
    result = _sapool("train", "--resume", trained, "--epochs", 2, "--threads", "1", "-q", "--json", "-o", resumed)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["epochs"] == 2 and summary["resumed_from_epoch"] == 1
    after, before = load_checkpoint(resumed), load_checkpoint(trained)
    assert after.training_state["epoch"] == 2 and [h["epoch"] for h in after.metrics["history"]] == [1, 2]
    assert after.train_args == {**before.train_args, "epochs": 2}  # same schedule, new total
    assert any(not torch.equal(after.state_dict[n], before.state_dict[n]) for n in before.state_dict)


def test_resume_refuses_to_go_backwards_or_change_the_model(trained, tmp_path):
    _assert_error(_sapool("train", "--resume", trained, "--epochs", 1, "-o", tmp_path / "x.pt"), "already has 1 epochs")
    _assert_error(_sapool("train", "--resume", trained, "--arch", "mbv2", "-o", tmp_path / "x.pt"),
                  "--arch cannot be combined with --resume")


def test_resume_needs_a_recorded_schedule(trained, tmp_path):
    raw = torch.load(trained, weights_only=True)
    stripped = tmp_path / "stripped.pt"
    torch.save({**raw, "train_args": {}, "training_state": {}}, stripped)
    _assert_error(_sapool("train", "--resume", stripped, "--epochs", 3, "-o", tmp_path / "x.pt"), "cannot be resumed")
    assert _sapool("eval", stripped, "--threads", "1").exit_code == 0  # still a valid model for eval and compile


def test_dry_run_prints_layers_without_training(tmp_path):
    output = tmp_path / "model.pt"
    result = _sapool("train", *FAST, "--dry-run", "-o", output)
    assert result.exit_code == 0, result.output
    assert "planned int8 peak arena" in result.stdout and "MACs" in result.stdout
    assert "an estimate, not the plan" in result.stdout
    assert not output.exists()


def test_dry_run_reports_the_same_planned_peak_as_the_footprint_prune_and_plan_use():
    from sapool.models.config import ModelConfig
    from sapool.models.footprint import int8_peak_activation
    from sapool.train.session import build_network

    result = _sapool("train", *FAST, "--dry-run", "--format", "json")
    document = json.loads(result.stdout)
    config = ModelConfig(**document["config"])
    assert document["peak_arena_bytes"] == int8_peak_activation(build_network(config, seed=0), config).peak_arena_bytes
    assert document["estimate"]["largest_layer_in_out_bytes"] > 0  # labelled, not mixed up with the plan


def test_train_and_eval_on_an_rgb_image_folder(tmp_path):
    """Users' own data: class names from the folders, 3 channels, 20×20 images resized to the 32×32 input."""
    for index in range(12):
        for name, colour in (("red", (200, 20, 20)), ("blue", (20, 20, 200))):
            (tmp_path / "photos" / name).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (20, 20), tuple(min(255, c + index) for c in colour)).save(
                tmp_path / "photos" / name / f"{index}.png")
    output = tmp_path / "model.pt"
    assert _sapool("train", *FAST, "--batch-size", "8", "--epochs", 1, "--data", tmp_path / "photos",
                   "-o", output).exit_code == 0
    checkpoint = load_checkpoint(output)
    assert checkpoint.class_names == ("blue", "red") and checkpoint.config.in_channels == 3
    assert checkpoint.config.num_classes == 2 and checkpoint.dataset == f"folder:{tmp_path / 'photos'}"
    report = json.loads(_sapool("eval", output, "--threads", "1", "--json").stdout)
    assert report["test_images"] == 2  # the fixed 10% held out of 24
    _assert_error(_sapool("eval", output, "--data", "fashion-mnist"), "1-channel images but the model takes 3")


def _mixed_size_folder(root: Path) -> Path:
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        Image.new("L", (8, 8)).save(root / label / "0.png")
    Image.new("L", (9, 8)).save(root / "b" / "1.png")
    return root


def _foreign_checkpoint(path: Path) -> Path:
    torch.save({"conv.weight": torch.zeros(2, 2)}, path)
    return path


def _corrupt_checkpoint(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    return path


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda tmp: ["--data", tmp / "no-such-folder"], "data folder not found"),
        (lambda tmp: ["--data", _mixed_size_folder(tmp / "mixed")], "mixed image sizes"),
        (lambda tmp: ["--resume", _corrupt_checkpoint(tmp / "corrupt.pt")], "not a readable torch checkpoint"),
        (lambda tmp: ["--resume", _foreign_checkpoint(tmp / "foreign.pt")], "not a sapool checkpoint"),
        (lambda tmp: ["--subset", "1"], "'--subset': 1 is not in the range 2<=x"),
        (lambda tmp: ["--threads", "0"], "'--threads': 0 is not in the range 1<=x<=1024"),
        (lambda tmp: ["--lr", "0"], "'--lr': 0 is not in (0, 10]"),  # was silently replaced by the default
        (lambda tmp: ["--lr", "inf"], "'--lr': inf is not in (0, 10]"),  # trained to NaN and exited 0
        (lambda tmp: ["--width", "200"], "'--width': 200 is not in (0, 8]"),
        (lambda tmp: ["--batch-size", "-5"], "'--batch-size': -5 is not in the range 1<=x<=65536"),
    ],
)
def test_bad_training_input_is_one_error_line_and_keeps_the_old_model(tmp_path, make_args, message):
    output = tmp_path / "model.pt"
    output.write_bytes(OLD_BYTES)
    args = make_args(tmp_path)
    options = FAST if "--resume" not in args else ["-q"]  # click keeps the last of a repeated option
    result = _sapool("train", *options, "--epochs", 1, *args, "-o", output)
    _assert_error(result, message)
    assert output.read_bytes() == OLD_BYTES
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".model.pt")) == []


@pytest.mark.parametrize("make, message", [(_corrupt_checkpoint, "not a readable torch checkpoint"),
                                          (_foreign_checkpoint, "not a sapool checkpoint")])
def test_eval_of_a_bad_checkpoint_is_one_error_line(tmp_path, make, message):
    _assert_error(_sapool("eval", make(tmp_path / "bad.pt")), message)


def test_an_output_that_is_the_training_data_is_refused(tmp_path):
    data = tmp_path / "data.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x=rng.integers(0, 255, (8, 16, 16), dtype=np.uint8), y=np.arange(8) % 2)
    before = data.read_bytes()
    _assert_error(_sapool("train", *FAST, "--data", data, "-o", data), "is also an input of this command")
    assert data.read_bytes() == before


def test_missing_output_folder_is_reported_before_training(tmp_path):
    _assert_error(_sapool("train", *FAST, "-o", tmp_path / "missing" / "model.pt"), "output folder does not exist")


@pytest.mark.slow
def test_torchrun_with_two_gloo_processes_writes_one_checkpoint(tmp_path):
    output = tmp_path / "ddp.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "sapool", "train", *FAST, "--subset", "256", "--epochs", "1", "--device", "cpu", "--json",
               "-o", str(output)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(completed.stdout)  # rank 0 alone prints: stdout is exactly one JSON document
    assert summary["world_size"] == 2 and summary["train_images"] == 256
    checkpoint = load_checkpoint(output)
    assert checkpoint.train_args["world_size"] == 2 and checkpoint.training_state["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ddp.pt"]


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw["config"].update(width=float("inf")), "width must be a number > 0 and <= 8"),
    (lambda raw: raw["config"].update(num_classes=2 ** 62), "num_classes must be a whole number from 2 to 10,000"),
    (lambda raw: raw["config"].update(input_size=30000), "input_size must be a whole number from 16 to 1,024"),
    (lambda raw: raw["train_args"].update(pruned_channels={"stem.conv.conv": {"out": 10 ** 9, "in": 1}}),
     "pruned-channel record entry 'stem.conv.conv': out = 1000000000 is not a whole number between 1 and"),
])
def test_eval_of_a_checkpoint_with_absurd_values_names_the_field_before_building(trained, tmp_path, change, message):
    raw = torch.load(trained, weights_only=True)
    change(raw)
    absurd = tmp_path / "absurd.pt"
    torch.save(raw, absurd)
    _assert_error(_sapool("eval", absurd), message)


def _three_class_npz(path: Path) -> Path:
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.integers(0, 256, (96, 32, 32), dtype=np.uint8), y=np.arange(96) % 3)
    return path


def test_a_teacher_for_other_classes_is_one_error_line_and_keeps_the_old_model(trained, tmp_path):
    output = tmp_path / "student.pt"
    output.write_bytes(OLD_BYTES)
    result = _sapool("train", *FAST, "--data", _three_class_npz(tmp_path / "three.npz"), "--teacher", trained,
                     "--epochs", 1, "-o", output)
    _assert_error(result, "has 10 classes but the student has 3")
    assert output.read_bytes() == OLD_BYTES


def test_distillation_options_need_a_teacher(tmp_path):
    _assert_error(_sapool("train", *FAST, "--kd-alpha", "0.7", "-o", tmp_path / "x.pt"), "--kd-alpha needs --teacher")


def test_a_distilled_run_records_its_objective_and_resumes_with_it(trained, tmp_path):
    student = tmp_path / "student.pt"
    result = _sapool("train", *FAST, "--subset", 128, "--epochs", 1, "--teacher", trained, "--kd-alpha", "0.7",
                     "--kd-temperature", "2", "--label-smoothing", "0.1", "--augment", "crop", "-o", student)
    assert result.exit_code == 0, result.output
    args = load_checkpoint(student).train_args
    assert (args["teacher"], args["kd_alpha"], args["kd_temperature"]) == (str(trained.resolve()), 0.7, 2.0)
    assert (args["label_smoothing"], args["augment"]) == (0.1, "crop")
    resumed = _sapool("train", "--resume", student, "--epochs", 2, "--threads", "1", "-q", "--json", "-o", student)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["objective"]["kd_alpha"] == 0.7
    _assert_error(_sapool("train", "--resume", student, "--epochs", 3, "--kd-alpha", "0.2", "-o", student),
                  "--kd-alpha cannot be combined with --resume")


def test_sync_batch_norm_without_cuda_is_one_error_line(tmp_path):
    _assert_error(_sapool("train", *FAST, "--sync-bn", "--device", "cpu", "-o", tmp_path / "x.pt"),
                  "--sync-bn needs CUDA devices")
