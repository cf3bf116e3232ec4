"""`sapool prune` end to end on a checkpoint made by `sapool train` (Fashion-MNIST, 256 images, one epoch)."""

import hashlib
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from sapool.cli import main
from sapool.models.footprint import int8_peak_activation
from sapool.data.datasets import FASHION_MNIST_DIR
from sapool.train.checkpoint import PRUNED_CHANNELS_KEY, load_checkpoint, restore_model

pytestmark = pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")

OLD_BYTES = b"previous output, must survive a failed run"


def _sapool(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_error(result, code: int, message: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, result.output
    assert lines and lines[-1].startswith("Error: ") and message in lines[-1], lines
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("trained") / "model.pt"
    result = _sapool("train", "--arch", "mcunet", "--width", "0.5", "--pool", "sap", "--input-size", "64",
                     "--batch-size", "64", "--subset", "256", "--epochs", "1", "-q", "-o", path)
    assert result.exit_code == 0, result.output
    return path


def test_ratio_prunes_finetunes_and_saves_a_loadable_smaller_model(trained, tmp_path):
    before_digest = _digest(trained)
    output = tmp_path / "pruned.pt"
    result = _sapool("prune", trained, "--ratio", "0.5", "--finetune-epochs", "1", "--subset", "128", "--json", "-q",
                     "-o", output)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    before, after = summary["before"], summary["after"]
    assert after["params"] < 0.5 * before["params"] and after["macs"] < before["macs"]
    assert after["peak_arena_bytes"] < before["peak_arena_bytes"]
    assert summary["channels_after"] == summary["channels_before"] // 2 and summary["test_images"] == 128
    assert _digest(trained) == before_digest  # the input is never modified

    checkpoint = load_checkpoint(output)
    assert checkpoint.train_args[PRUNED_CHANNELS_KEY] and checkpoint.train_args["prune"]["ratio"] == 0.5
    model = restore_model(checkpoint)
    assert sum(p.numel() for p in model.parameters()) == after["params"]
    assert int8_peak_activation(model, checkpoint.config).peak_arena_bytes == after["peak_arena_bytes"]
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 64, 64)).shape == (1, 10)
    evaluated = _sapool("eval", output, "--json", "--threads", "1")  # eval rebuilds the pruned architecture
    assert evaluated.exit_code == 0, evaluated.output


def test_pruning_a_pruned_checkpoint_keeps_the_earlier_record(trained, tmp_path):
    once, twice = tmp_path / "once.pt", tmp_path / "twice.pt"
    assert _sapool("prune", trained, "--ratio", "0.25", "--subset", "64", "-o", once).exit_code == 0
    result = _sapool("prune", once, "--ratio", "0.25", "--subset", "64", "-o", twice)
    assert result.exit_code == 0, result.output
    assert "before" in result.stdout and "int8 peak activations" in result.stdout
    model = restore_model(load_checkpoint(twice))
    first = restore_model(load_checkpoint(once))
    assert sum(p.numel() for p in model.parameters()) < sum(p.numel() for p in first.parameters())


@pytest.fixture(scope="module")
def between_extremes(trained, tmp_path_factory) -> int:
    """A budget between the unpruned int8 peak and the peak pruned at ratio 0.95."""
    probe = _sapool("prune", trained, "--ratio", "0.95", "--subset", "64", "--json", "-o",
                    tmp_path_factory.mktemp("probe") / "probe.pt")
    peaks = json.loads(probe.stdout)
    return (peaks["before"]["peak_arena_bytes"] + peaks["after"]["peak_arena_bytes"]) // 2


@pytest.mark.parametrize("strategy", [None, "global"])
def test_ram_budget_fit_prunes_until_the_activations_fit(trained, between_extremes, tmp_path, strategy):
    output = tmp_path / "fit.pt"
    chosen = ("--strategy", strategy) if strategy else ()
    result = _sapool("prune", trained, "--ram-budget", between_extremes, *chosen, "--subset", "64", "--json",
                     "-o", output)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["before"]["fits"] is False and summary["after"]["fits"] is True
    assert summary["after"]["peak_arena_bytes"] <= between_extremes
    assert summary["strategy"] == (strategy or "peak")
    assert (summary["ratio"] > 0) if strategy == "global" else summary["ratio"] is None
    groups = summary["groups"]
    assert groups and all(g["channels_after"] < g["channels_before"] for g in groups)
    assert summary["groups_pruned"] == len(groups)
    assert summary["channels_before"] - summary["channels_after"] == sum(
        g["channels_before"] - g["channels_after"] for g in groups)
    assert load_checkpoint(output).train_args["prune"]["strategy"] == summary["strategy"]


def test_text_summary_lists_the_pruned_groups(trained, between_extremes, tmp_path):
    result = _sapool("prune", trained, "--ram-budget", between_extremes, "--subset", "64", "-o", tmp_path / "a.pt")
    assert result.exit_code == 0, result.output
    assert "(strategy peak, l1)" in result.stdout
    group_lines = [line.split() for line in result.stdout.splitlines() if line.endswith("%)")]
    assert group_lines and all(int(line[1]) > int(line[3]) and line[2] == "->" for line in group_lines)


def test_impossible_fit_is_an_error_and_leaves_input_and_output_alone(trained, tmp_path):
    output = tmp_path / "out.pt"
    output.write_bytes(OLD_BYTES)
    before_digest = _digest(trained)
    result = _sapool("prune", trained, "--fit", "stm32f4", "--ram-budget", "2K", "--subset", "64", "-o", output)
    # the 4 KB input alone is over budget (the SAP layer's attention, fused, is far below the stem)
    _assert_error(result, 1, "does not fit a RAM budget of 2048 B: at op 0 DEPTHWISE_CONV_2D stem_conv_conv")
    assert "(largest: x 1×64×64×1 = 4096 B)" in result.stderr
    assert output.read_bytes() == OLD_BYTES and _digest(trained) == before_digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pt"]  # no temporary left behind


def test_corrupt_checkpoint_is_a_bad_input_error(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 truncated zip")
    _assert_error(_sapool("prune", corrupt, "--ratio", "0.5", "-o", tmp_path / "out.pt"), 2, "corrupt.pt")
    assert not (tmp_path / "out.pt").exists()


@pytest.mark.parametrize("options, message", [
    ((), "either --ratio, or --fit"),
    (("--ratio", "0.5", "--fit", "stm32f4"), "either --ratio, or --fit"),
    (("--ratio", "1.5"), "'--ratio': 1.5 is not in [0, 1)"),
    (("--ratio", "0.5", "--batch-size", "-5"), "'--batch-size': -5 is not in the range 1<=x<=65536"),
    (("--ratio", "0.5", "--lr", "nan"), "'--lr': nan is not in (0, 10]"),
    (("--ratio", "0.5", "--ram-budget", "lots"), "not a byte size"),
    (("--fit", "stm99"), "stm99"),
    (("--ratio", "0.5", "--strategy", "peak"), "does not apply to --ratio"),
    (("--ram-budget", "8K", "--strategy", "uniform"), "'--strategy': 'uniform' is not one of"),
])
def test_bad_options_are_usage_errors(trained, tmp_path, options, message):
    _assert_error(_sapool("prune", trained, *options, "-o", tmp_path / "out.pt"), 2, message)


def test_output_over_the_input_is_refused(trained):
    _assert_error(_sapool("prune", trained, "--ratio", "0.5", "-o", trained), 2, "-o must differ from the input")


def test_a_large_accuracy_drop_is_refused_unless_forced(trained, tmp_path):
    """The summary carries accuracy before pruning, after pruning and after fine-tuning; a drop beyond
    --max-accuracy-drop exits 1 with the table printed and nothing written; --force writes it."""
    output = tmp_path / "pruned.pt"
    args = ("prune", trained, "--ratio", "0.9", "--finetune-epochs", "1", "--subset", "128", "--json", "-q")
    result = _sapool(*args, "--max-accuracy-drop", "0", "-o", output)
    summary = json.loads(result.stdout)
    accuracy = summary["accuracy"]
    assert accuracy["before"] == summary["before"]["test_accuracy"]
    assert accuracy["after_finetuning"] == summary["after"]["test_accuracy"]
    assert accuracy["drop"] == pytest.approx(accuracy["before"] - accuracy["after_finetuning"])
    assert 0.0 <= accuracy["after_pruning"] <= 1.0 and accuracy["max_drop"] == 0.0
    assert any("keeps" in warning and "channels" in warning for warning in summary["warnings"])  # 90 % go
    if accuracy["drop"] > 0:
        _assert_error(result, 1, "--max-accuracy-drop")
        assert not output.exists()
        forced = _sapool(*args, "--max-accuracy-drop", "0", "--force", "-o", output)
        assert forced.exit_code == 0 and output.is_file()
    else:  # fine-tuning recovered everything: nothing to refuse
        assert result.exit_code == 0 and output.is_file()
