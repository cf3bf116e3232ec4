import pytest
import torch

from sapool.errors import BadInputError
from sapool.models.build import build_model
from sapool.models.config import ModelConfig
from sapool.models.mobilenetv2 import InvertedResidual, MobileNetV2
from sapool.models.sap import SAPool

SIZES = {"standard": 64, "aggressive": 128}  # the smallest multiples of the total strides 32 and 128


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("downsample", ["standard", "aggressive"])
def test_output_shape(downsample, in_channels):
    config = ModelConfig(arch="mbv2", pool="sap-nowin", downsample=downsample, width=0.35,
                         in_channels=in_channels, num_classes=7, input_size=SIZES[downsample])
    model = build_model(config).eval()
    assert isinstance(model, MobileNetV2)
    with torch.no_grad():
        assert model(torch.randn(2, in_channels, config.input_size, config.input_size)).shape == (2, 7)


@pytest.mark.parametrize("downsample,strides", [("standard", (1, 2, 2, 2, 1, 2, 1)),
                                               ("aggressive", (4, 2, 2, 2, 1, 2, 1))])
def test_a_pooling_layer_takes_the_stride_of_each_strided_stage(downsample, strides):
    config = ModelConfig(arch="mbv2", pool="sap", downsample=downsample, width=0.35, input_size=SIZES[downsample])
    model = build_model(config)
    assert model.stem.conv.stride == (2, 2)
    for stage, stride in zip(model.features, strides):
        pools = [m for m in stage.children() if isinstance(m, SAPool)]
        assert [p.stride for p in pools] == ([stride] if stride > 1 else [])
        assert all(p.patch_size < p.stride for p in pools)  # normalised SAP needs p < s
        blocks = [m for m in stage.children() if isinstance(m, InvertedResidual)]
        assert all(b.depthwise.conv.stride == (1, 1) for b in blocks)
        if pools:  # the pool works on the stage's input channels, before the first block
            assert list(stage.children())[0] is pools[0]
            first_conv = blocks[0].expand or blocks[0].depthwise
            assert pools[0].channels == first_conv.conv.in_channels


def test_paper_patch_sizes_for_nowin():
    model = build_model(ModelConfig(arch="mbv2", pool="sap-nowin", downsample="aggressive", width=0.35,
                                    input_size=128))
    assert [p.patch_size for p in model.modules() if isinstance(p, SAPool)] == [4, 4, 4, 2, 1]  # stages 1, 2, 3, 4, 6


def test_inverted_residual_structure_for_a_pruner():
    block = InvertedResidual(16, 16, 6)
    assert block.expand.conv.out_channels == 96 and block.expand.bn.num_features == 96
    assert block.depthwise.conv.groups == 96 and block.project.conv.in_channels == 96
    assert block.use_residual
    assert InvertedResidual(16, 24, 1).expand is None


def test_input_size_not_a_multiple_of_the_total_stride_is_rejected():
    with pytest.raises(BadInputError, match="multiple of 128"):
        build_model(ModelConfig(arch="mbv2", downsample="aggressive", input_size=64))
