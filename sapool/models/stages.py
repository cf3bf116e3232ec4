"""The stage layout every network here shares: a stage with stride s > 1 starts with the configured pooling
layer (stride s, on the stage's input channels), then its blocks run at stride 1.

Module names (`features.stageK.pool`, `features.stageK.blockN`) are what checkpoints and the pruner see.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from torch import nn

from sapool.models.blocks import make_divisible
from sapool.models.config import ModelConfig
from sapool.models.pooling import stage_pool

# (base output channels before the width multiplier, number of blocks, block(in_channels, out_channels))
StageSpec = tuple[int, int, Callable[[int, int], nn.Module]]


def pooled_stages(config: ModelConfig, specs: Sequence[StageSpec], strides: str, patch_sizes: Sequence[int],
                  in_channels: int, size: int) -> tuple[nn.Sequential, int, int]:
    """`features` (stage1…stageN), its output channels and output resolution; `size` is its input resolution."""
    features = OrderedDict()
    for index, ((channels, blocks, make_block), stride, patch) in enumerate(
            zip(specs, (int(s) for s in strides), patch_sizes), 1):
        out_channels = make_divisible(channels * config.width)
        stage = OrderedDict()
        if stride > 1:
            stage["pool"] = stage_pool(config, in_channels, stride, size, patch)
            size //= stride
        for block in range(blocks):
            stage[f"block{block}"] = make_block(in_channels, out_channels)
            in_channels = out_channels
        features[f"stage{index}"] = nn.Sequential(stage)
    return nn.Sequential(features), in_channels, size
