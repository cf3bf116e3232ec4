import pytest

from sapool.models.build import build_model
from sapool.models.config import ModelConfig
from sapool.models.mobilenetv2 import MobileNetV2
from sapool.models.resnet import ResNet18
from sapool.models.tiny import McuNet


@pytest.mark.parametrize("arch,cls", [("mcunet", McuNet), ("mbv2", MobileNetV2), ("resnet18", ResNet18)])
def test_build_model_maps_each_arch_to_its_network(arch, cls):
    config = ModelConfig.from_dict({"arch": arch, "pool": "avg", "downsample": "standard", "width": 0.25,
                                    "num_classes": 3, "input_size": 64})
    model = build_model(config)
    assert type(model) is cls and model.config == config
    assert model.classifier.out_features == 3


def test_width_multiplier_scales_the_channels():
    narrow = build_model(ModelConfig(arch="mbv2", pool="avg", width=0.5, downsample="standard"))
    wide = build_model(ModelConfig(arch="mbv2", pool="avg", width=1.0, downsample="standard"))
    assert narrow.features.stage7.block0.project.conv.out_channels == 160
    assert wide.features.stage7.block0.project.conv.out_channels == 320
