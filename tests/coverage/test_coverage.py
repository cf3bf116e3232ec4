"""The coverage suite's default slice: plain-torch models, one per front end, compiled to all-int8 and run
bit-exact in QEMU (tests/coverage/pairs.py). The full model × front-end matrix is `bench/coverage.py` (make bench),
which takes about a minute per pair."""

import pytest
from click.testing import CliRunner

from sapool.cli import main
from tests.coverage.pairs import check_pair
from tests.coverage.zoo import MODELS, build

DEFAULT_PAIRS = [("resnet8", "pt2"), ("mobilenetv2", "onnx-dynamo"), ("ds-cnn", "onnx-torchscript")]


def _run_cli(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("name", "front_end"), DEFAULT_PAIRS, ids=[f"{m}-{f}" for m, f in DEFAULT_PAIRS])
def test_a_plain_torch_model_compiles_to_int8_and_runs_bit_exact_in_qemu(tmp_path, name, front_end):
    model, shape = build(name)
    result = check_pair(name, model, shape, front_end, tmp_path, _run_cli)
    assert result.passed, f"{name} × {front_end} failed at {result.stage}: {result.reason}"


def test_every_zoo_model_runs_in_torch_at_its_input_shape():
    """The zoo itself: each model builds, runs on its input shape and gives a finite output (no export here)."""
    import torch

    for name in MODELS:
        model, shape = build(name)
        with torch.no_grad():
            output = model(torch.randn(*shape))
        assert output.shape[0] == shape[0] and torch.isfinite(output).all(), name
