"""ONNX files from both of torch 2.13's exporters convert and compute what the torch module computes: the default
exporter (dynamo=True, which needs the onnxscript package, ~10 s here) and the TorchScript one (dynamo=False,
deprecated, 0.2 s). Users of torch ≥ 2.9 get the first by default."""

import warnings

import pytest
import torch

from sapool.frontends import load_model
from tests.frontends.test_torch_export import UserCnn


@pytest.fixture(scope="module")
def user_cnn():
    torch.manual_seed(0)
    model = UserCnn().eval()
    with torch.no_grad():
        model.stem[1].running_mean.uniform_(-0.5, 0.5)
        model.stem[1].running_var.uniform_(0.5, 1.5)
    return model


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
def test_both_exporters_output_converts_to_the_same_function(tmp_path, user_cnn, dynamo):
    path = tmp_path / "user.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice, onnxscript's notes
        torch.onnx.export(user_cnn, (torch.zeros(1, 3, 16, 16),), str(path), dynamo=dynamo, verbose=False)
    loaded = load_model(path)
    assert loaded.kind == "onnx" and loaded.input_shape == (1, 3, 16, 16) and loaded.parity < 1e-5
    x = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), user_cnn(x), rtol=0, atol=1e-5)


def test_an_asymmetric_pad_from_the_torchscript_exporter_converts(tmp_path):
    """F.pad's pads reach the TorchScript exporter's Pad through a Slice with step -1 on a constant (folded)."""
    from tests.coverage.zoo import build

    model, shape = build("explicit-pad")
    path = tmp_path / "pad.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(*shape),), str(path), dynamo=False, verbose=False)
    loaded = load_model(path)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), model(x), rtol=0, atol=1e-5)
