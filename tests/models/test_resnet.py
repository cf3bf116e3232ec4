import pytest
import torch

from sapool.errors import BadInputError
from sapool.models.build import build_model
from sapool.models.config import ModelConfig
from sapool.models.resnet import BasicBlock, ResNet18
from sapool.models.sap import SAPool

SIZES = {"standard": 64, "aggressive": 128}  # multiples of the total strides 32 and 128


@pytest.mark.parametrize("in_channels", [1, 3])
@pytest.mark.parametrize("downsample", ["standard", "aggressive"])
def test_output_shape(downsample, in_channels):
    config = ModelConfig(arch="resnet18", pool="sap", downsample=downsample, width=0.25, in_channels=in_channels,
                         num_classes=5, input_size=SIZES[downsample])
    model = build_model(config).eval()
    assert isinstance(model, ResNet18)
    with torch.no_grad():
        assert model(torch.randn(2, in_channels, config.input_size, config.input_size)).shape == (2, 5)


@pytest.mark.parametrize("downsample,strides", [("standard", (1, 2, 2, 2)), ("aggressive", (4, 2, 2, 2))])
def test_pooling_layers_and_block_structure(downsample, strides):
    model = build_model(ModelConfig(arch="resnet18", pool="sap-nowin", downsample=downsample, width=0.25,
                                    input_size=SIZES[downsample]))
    assert model.stem.conv.conv.stride == (2, 2) and model.stem.pool.stride == 2
    patches = []
    for stage, stride in zip(model.features, strides):
        children = list(stage.children())
        pools = [m for m in children if isinstance(m, SAPool)]
        assert [p.stride for p in pools] == ([stride] if stride > 1 else [])
        patches += [p.patch_size for p in pools]
        blocks = [m for m in children if isinstance(m, BasicBlock)]
        assert len(blocks) == 2 and all(b.conv1.conv.stride == (1, 1) for b in blocks)
        if pools:
            assert children[0] is pools[0] and pools[0].channels == blocks[0].conv1.conv.in_channels
    assert patches == [4, 2, 1, 1][4 - len(patches):]  # the paper's per-stage patch sizes


def test_shortcut_only_where_channels_change():
    assert BasicBlock(16, 32).shortcut.conv.out_channels == 32
    assert BasicBlock(16, 16).shortcut is None


def test_aggressive_needs_a_larger_input():
    with pytest.raises(BadInputError, match="multiple of 128"):
        build_model(ModelConfig(arch="resnet18", downsample="aggressive", input_size=64))
