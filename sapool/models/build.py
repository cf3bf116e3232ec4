"""`build_model(config)`: the one place that maps a ModelConfig to its torch network."""

from __future__ import annotations

from torch import nn

from sapool.models.config import ModelConfig
from sapool.models.mobilenetv2 import MobileNetV2
from sapool.models.resnet import ResNet18
from sapool.models.tiny import McuNet

NETWORKS = {"mcunet": McuNet, "mbv2": MobileNetV2, "resnet18": ResNet18}


def build_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised network for `config` (SAP layers in the paper form; see sap.set_export_form)."""
    return NETWORKS[config.arch](config)
