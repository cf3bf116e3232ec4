"""The torch → int8 graph estimate and its planned peak, on nets small enough to plan by hand."""

import pytest
import torch
from torch import nn

from sapool.errors import UnsupportedError
from sapool.ir.analysis import model_macs
from sapool.models.build import build_model
from sapool.models.config import ModelConfig
from sapool.models.footprint import input_shape_of, int8_peak_activation, torch_to_graph


def chain() -> nn.Module:
    """8×8×1 → conv 4 ch (BN, ReLU) → conv 8 ch (ReLU) → global mean → flatten → linear 2."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2),
    )


class Residual(nn.Module):
    """y = relu(x + conv(x)) then sigmoid: an ADD keeps both inputs alive; LOGISTIC is not a fused activation."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 1)
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8))

    def forward(self, x):
        x = self.stem(x)
        y = torch.relu(x + self.body(x))
        return torch.sigmoid(y).permute(0, 2, 3, 1)


def test_chain_graph_folds_batch_norm_and_fuses_relu():
    graph = torch_to_graph(chain(), (1, 1, 8, 8))
    # a conv on a 1-channel input is exported as a depthwise conv with a depth multiplier
    assert [op.opcode for op in graph.ops] == ["DEPTHWISE_CONV_2D", "CONV_2D", "MEAN", "RESHAPE", "FULLY_CONNECTED"]
    shapes = [graph.tensor(op.outputs[0]).shape for op in graph.ops]
    assert shapes == [(1, 8, 8, 4), (1, 8, 8, 8), (1, 1, 1, 8), (1, 8), (1, 2)]
    assert graph.tensor(graph.inputs[0]).shape == (1, 8, 8, 1)
    assert all(t.dtype == "int8" for t in graph.activations())


def test_chain_peak_is_the_two_conv_outputs():
    # second conv reads 8·8·4 = 256 B and writes 8·8·8 = 512 B: 768 B, the busiest op, plus its C kernel's
    # im2col patches (two of 3·3·4 = 36 B, 80 aligned: few input channels, gathered in pairs), which the
    # firmware's plan holds too
    footprint = int8_peak_activation(chain(), (1, 1, 8, 8), patches="off")
    assert footprint.lower_bound_bytes == 768 + 80
    assert footprint.peak_arena_bytes == 768 + 80
    assert footprint.fits is None
    assert footprint.macs == 64 * 4 * 9 + 64 * 8 * 36 + 2 * 8


def test_residual_add_sigmoid_and_transpose_cost_memory():
    graph = torch_to_graph(Residual(), (1, 1, 8, 8))
    assert [op.opcode for op in graph.ops] == ["DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "LOGISTIC", "TRANSPOSE"]
    # during CONV_2D #1 the stem output (512 B) stays alive for the ADD: 512 + 512; the ADD writes over the
    # CONV_2D output that dies at it (in place), so it needs 2 × 512 too, and so does the LOGISTIC after it;
    # the 3×3 conv's C kernel adds its im2col patch (3·3·8 = 72 B, 80 aligned)
    footprint = int8_peak_activation(Residual(), (1, 1, 8, 8), patches="off")
    assert footprint.lower_bound_bytes == 2 * 512 + 80
    assert footprint.peak_arena_bytes == 2 * 512 + 80


def test_relu_after_a_tensor_read_twice_is_its_own_op():
    class TwoReaders(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 1)

        def forward(self, x):
            y = self.conv(x)
            return torch.relu(y) + y

    graph = torch_to_graph(TwoReaders(), (1, 1, 4, 4))
    assert [op.opcode for op in graph.ops] == ["DEPTHWISE_CONV_2D", "RELU", "ADD"]


@pytest.mark.parametrize("size, stride, padding, pads", [
    (8, 2, 1, True),  # torch pads 1 on each side; TFLite's SAME pads 0 before, 1 after: an explicit PAD
    (9, 2, 1, False),  # odd size: SAME pads 1 and 1, the same as torch
    (8, 1, 1, False),  # stride 1: SAME is symmetric
    (8, 2, 0, False),  # VALID
])
def test_padding_that_tflite_same_cannot_express_becomes_a_pad_op(size, stride, padding, pads):
    conv = nn.Sequential(nn.Conv2d(2, 4, 3, stride, padding))
    graph = torch_to_graph(conv, (1, 2, size, size))
    assert [op.opcode for op in graph.ops] == (["PAD", "CONV_2D"] if pads else ["CONV_2D"])
    if pads:
        assert graph.tensor(graph.ops[0].outputs[0]).shape == (1, size + 2, size + 2, 2)


def test_fits_follows_the_ram_budget_and_the_target():
    assert int8_peak_activation(chain(), (1, 1, 8, 8), ram_budget=848, patches="off").fits is True
    assert int8_peak_activation(chain(), (1, 1, 8, 8), ram_budget=847, patches="off").fits is False
    assert int8_peak_activation(chain(), (1, 1, 8, 8), target="stm32f4").fits is True


def test_footprint_leaves_the_model_in_training_mode_if_it_was():
    model = chain().train()
    int8_peak_activation(model, (1, 1, 8, 8))
    assert model.training


def test_untraceable_model_is_an_unsupported_error():
    class DataDependent(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(UnsupportedError, match="cannot trace"):
        torch_to_graph(DataDependent(), (1, 1, 4, 4))


def _export_int8(model: nn.Module, shape: tuple[int, ...], path) -> None:
    """litert-torch 0.10 with its stock PT2E quantiser (per-channel int8, NHWC input), as DESIGN.md §8 measured."""
    import litert_torch
    from litert_torch.quantize import pt2e_quantizer, quant_config
    from torchao.quantization.pt2e import quantize_pt2e

    example = (torch.randn(shape[0], shape[2], shape[3], shape[1]),)
    exported = torch.export.export(litert_torch.to_channel_last_io(model, args=[0]), example).module()
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    prepared = quantize_pt2e.prepare_pt2e(exported, quantizer)
    prepared(*example)
    quantized = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
    litert_torch.convert(quantized, example, quant_config=quant_config.QuantConfig(pt2e_quantizer=quantizer)).export(
        str(path))


@pytest.mark.slow
@pytest.mark.parametrize("config", [
    ModelConfig(arch="mcunet", pool="max", width=0.5, input_size=64),
    ModelConfig(arch="resnet18", pool="max", width=0.25, downsample="standard", input_size=32),
], ids=lambda c: c.arch)
def test_estimate_matches_the_planned_peak_of_a_real_int8_export(config, tmp_path):
    """Same ops that hold memory once the passes ran on both (torch's stride-2 PADs folded into their convs), same
    recipe → same bytes: the estimate is the export's plan."""
    from sapool.ir.read import read_tflite
    from sapool.passes.patches import expand
    from sapool.planning import plan_model

    # Seeded: with some random weights/calibration data the converter adds a requantising QUANTIZE op (e.g. where a
    # residual ADD's operands get different scales), which the estimate does not model (docs/pruning.md).
    torch.manual_seed(0)
    model = build_model(config).eval()
    _export_int8(model, input_shape_of(config), tmp_path / "model.tflite")
    exported = read_tflite(tmp_path / "model.tflite")
    assert {t.dtype for t in exported.activations()} == {"int8"}
    estimate = int8_peak_activation(model, config)
    planned = plan_model(exported, None)
    assert estimate.peak_arena_bytes == planned.peak_arena_bytes
    assert estimate.macs == model_macs(exported)
    # a patch stage stands for the ops it runs: compared with its ops back in place
    assert _ops_but_reshapes(expand(estimate.graph)[0]) == _ops_but_reshapes(expand(planned.graph)[0])


def _ops_but_reshapes(graph) -> list[str]:
    """The export folds flatten into its MEAN/SUM; a RESHAPE is a view and holds no memory either way."""
    return sorted(op.opcode for op in graph.ops if op.opcode != "RESHAPE")
