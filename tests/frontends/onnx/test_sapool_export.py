"""The ONNX export of the shipped SAP network converts and matches onnxruntime and the original torch module.

torch 2.13's default ONNX exporter (dynamo=True) needs the onnxscript package; the TorchScript exporter
(dynamo=False) needs nothing more and is what this test uses. The network is exported in its export form (the
paper form's Exp has no int8 lowering: that export is refused, naming the node).
"""

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from sapool.errors import UnsupportedError
from sapool.frontends import load_model
from sapool.models.sap import set_export_form
from sapool.train.checkpoint import load_model as load_checkpoint_model

SHIPPED = Path(__file__).resolve().parents[3] / "sapool" / "pretrained" / "mcunet_sap_fmnist.pt"


def _export_onnx(model: nn.Module, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, (torch.zeros(1, 1, 64, 64),), str(path), dynamo=False,
                          input_names=["image"], output_names=["logits"])
    return path


@pytest.fixture(scope="module")
def shipped_export_form():
    model, _ = load_checkpoint_model(SHIPPED)
    set_export_form(model)
    return model


@pytest.fixture(scope="module")
def converted(shipped_export_form, tmp_path_factory):
    return load_model(_export_onnx(shipped_export_form, tmp_path_factory.mktemp("sap") / "mcunet_sap.onnx"))


def test_converts_and_matches_onnxruntime(converted):
    assert converted.kind == "onnx" and converted.input_shape == (1, 1, 64, 64)
    assert converted.parity < 1e-5


def test_matches_the_original_torch_module(converted, shipped_export_form):
    x = torch.randn(8, 1, 1, 64, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        for image in x:
            torch.testing.assert_close(converted.module(image), shipped_export_form(image), rtol=0, atol=1e-4)


def test_keeps_every_convolution_as_a_conv_layer(converted, shipped_export_form):
    def conv_shapes(module):
        return sorted((m.in_channels, m.out_channels, m.groups, m.kernel_size, m.stride)
                      for m in module.modules() if isinstance(m, nn.Conv2d))
    assert conv_shapes(converted.module) == conv_shapes(shipped_export_form)


def test_the_paper_form_export_is_refused_naming_the_exp_node(tmp_path):
    model, _ = load_checkpoint_model(SHIPPED)
    path = _export_onnx(model, tmp_path / "paper.onnx")
    with pytest.raises(UnsupportedError, match=r"ONNX op Exp \(node '/features/stage1/pool/\S*Exp'\) is not "
                                               "supported: sapool has no int8 lowering"):
        load_model(path)
