"""ResNet18 (He et al. 2016) with the pooling method and stage strides taken from a ModelConfig.

Stem: 7×7 conv s2 + 3×3 max-pool s2, as torchvision. Stage strides: "standard" = `1222`, "aggressive" =
`4222`. A stage with stride s > 1 starts with the configured pooling layer (stride s, on the stage's input
channels), then stride-1 basic blocks. (The official SAP code appends the pooling layer after a ResNet stage's
blocks instead, running the whole stage at s² times the pixels; sapool places it as in MobileNetV2 so that the
aggressive configuration actually saves memory.)
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from sapool.models.blocks import (check_input_size, conv_bn, global_average_pool, init_conv_weights,
                                  make_divisible, total_stride)
from sapool.models.config import ModelConfig
from sapool.models.stages import pooled_stages

STAGE_CHANNELS = (64, 128, 256, 512)
BLOCKS_PER_STAGE = 2
STAGE_STRIDES = {"standard": "1222", "aggressive": "4222"}
SAP_PATCH_SIZES = (4, 2, 1, 1)  # the SAP paper's patch size per ResNet stage (official "reduced" setting)
STEM_STRIDE = 4


class BasicBlock(nn.Module):
    """conv1 (3×3+BN+ReLU) → conv2 (3×3+BN), plus the shortcut, then ReLU.

    Channel dependencies: `conv1.conv` out / `conv1.bn` / `conv2.conv` in are private to the block. `conv2.conv`
    out (= `conv2.bn`) is added to the shortcut: with `shortcut` (1×1 conv+BN, present when channels change) the
    output channels couple `conv2` and `shortcut.conv` out; without it they are the input stream's channels.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(in_channels, out_channels, 3, act=nn.ReLU)
        self.conv2 = conv_bn(out_channels, out_channels, 3)
        self.shortcut = conv_bn(in_channels, out_channels, 1) if in_channels != out_channels else None
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.shortcut(x) if self.shortcut is not None else x
        return self.act(self.conv2(self.conv1(x)) + identity)


class ResNet18(nn.Module):
    """stem (conv, max-pool) → features.stage1…4 → global average pool → classifier."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config  # the network carries its own description (pruner, profiler, checkpoints)
        strides = STAGE_STRIDES[config.downsample]
        check_input_size("resnet18", config.downsample, config.input_size, total_stride(STEM_STRIDE, strides))
        channels = make_divisible(STAGE_CHANNELS[0] * config.width)
        self.stem = nn.Sequential(OrderedDict(
            conv=conv_bn(config.in_channels, channels, 7, 2, act=nn.ReLU),
            pool=nn.MaxPool2d(3, 2, padding=1),
        ))
        specs = [(width, BLOCKS_PER_STAGE, BasicBlock) for width in STAGE_CHANNELS]
        self.features, channels, size = pooled_stages(
            config, specs, strides, SAP_PATCH_SIZES, channels, config.input_size // STEM_STRIDE)
        self.global_pool = global_average_pool(size)
        self.classifier = nn.Linear(channels, config.num_classes)
        init_conv_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.stem(x))
        return self.classifier(torch.flatten(self.global_pool(x), 1))
