"""MobileNetV2 (Sandler et al. 2018) with the pooling method and stage strides taken from a ModelConfig.

Stage strides: "standard" = `1222121`, "aggressive" = `4222121` (the SAP paper's early downsampling); the stem
conv keeps stride 2. A stage with stride s > 1 starts with the configured pooling layer (stride s, on the
stage's input channels) followed by stride-1 blocks — as the official code's `mobilenet` backbone wires it, so
the first block's expansion already runs at the reduced resolution.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from sapool.models.blocks import (check_input_size, conv_bn, global_average_pool, init_conv_weights,
                                  make_divisible, total_stride)
from sapool.models.config import ModelConfig
from sapool.models.stages import pooled_stages

# expansion t, output channels c, blocks n — the MobileNetV2 paper's table 2
STAGES = ((1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1))
STAGE_STRIDES = {"standard": "1222121", "aggressive": "4222121"}
SAP_PATCH_SIZES = (4, 4, 4, 2, 2, 1, 1)  # the SAP paper's patch size per stage (official "reduced" setting)
STEM_STRIDE = 2


class InvertedResidual(nn.Module):
    """expand (1×1 conv+BN+ReLU6, absent when t = 1) → depthwise (k×k, groups = hidden) → project (1×1 conv+BN).

    Channel dependencies: the hidden channels — `expand.conv` out, `expand.bn`, `depthwise.conv` in/out/groups,
    `depthwise.bn`, `project.conv` in — are private to the block and can be pruned freely. `project.conv` out
    (= `project.bn`) is the block output; with `use_residual` it is added to the input and tied to the stream.
    """

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: int, stride: int = 1,
                 kernel: int = 3) -> None:
        super().__init__()
        hidden = round(in_channels * expand_ratio)
        self.expand = conv_bn(in_channels, hidden, 1, act=nn.ReLU6) if expand_ratio != 1 else None
        self.depthwise = conv_bn(hidden, hidden, kernel, stride, groups=hidden, act=nn.ReLU6)
        self.project = conv_bn(hidden, out_channels, 1)
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(x) if self.expand is not None else x
        out = self.project(self.depthwise(out))
        return x + out if self.use_residual else out


def inverted_residual_stages(config: ModelConfig, stages, strides: str, patch_sizes, in_channels: int,
                             size: int) -> tuple[nn.Sequential, int]:
    """`features` of inverted-residual blocks and its output channels; `stages` rows are (t, c, n) as in the paper."""
    specs = [(c, n, partial(InvertedResidual, expand_ratio=t)) for t, c, n in stages]
    features, channels, _ = pooled_stages(config, specs, strides, patch_sizes, in_channels, size)
    return features, channels


class InvertedResidualNet(nn.Module):
    """What MobileNetV2 and mcunet share after their feature stages: head → global average pool → classifier."""

    def add_head(self, config: ModelConfig, channels: int, head_channels: int, final_size: int) -> None:
        """head (1×1 conv+BN+ReLU6) → global average pool → classifier; then the weight initialisation."""
        self.head = conv_bn(channels, head_channels, 1, act=nn.ReLU6)
        self.global_pool = global_average_pool(final_size)
        self.classifier = nn.Linear(head_channels, config.num_classes)
        init_conv_weights(self)
        nn.init.normal_(self.classifier.weight, 0.0, 0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(self.features(self.stem(x)))
        return self.classifier(torch.flatten(self.global_pool(x), 1))


class MobileNetV2(InvertedResidualNet):
    """stem (3×3 s2) → features.stage1…7 → head (1×1 to 1280) → global average pool → classifier."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config  # the network carries its own description (pruner, profiler, checkpoints)
        strides = STAGE_STRIDES[config.downsample]
        check_input_size("mbv2", config.downsample, config.input_size, total_stride(STEM_STRIDE, strides))
        stem_channels = make_divisible(32 * config.width)
        self.stem = conv_bn(config.in_channels, stem_channels, 3, STEM_STRIDE, act=nn.ReLU6)
        self.features, channels = inverted_residual_stages(
            config, STAGES, strides, SAP_PATCH_SIZES, stem_channels, config.input_size // STEM_STRIDE)
        head_channels = make_divisible(1280 * config.width) if config.width > 1.0 else 1280
        self.add_head(config, channels, head_channels, config.input_size // total_stride(STEM_STRIDE, strides))
