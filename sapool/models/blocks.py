"""Conv → BatchNorm → activation units and input-size checks shared by the networks and the pooling layers.

Every convolution in sapool's networks is built here, as `nn.Sequential(conv=…, bn=…[, act=…])`, so a structured
channel pruner finds the same three names everywhere: the conv's output channels, the BN's features and (for a
depthwise conv) the groups are one channel set.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from sapool.errors import BadInputError


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1, *, groups: int = 1,
            padding: int | None = None, act: type[nn.Module] | None = None) -> nn.Sequential:
    """Conv2d (no bias: the BN supplies it) + BatchNorm2d, optionally followed by `act()`.

    Padding defaults to (kernel - 1) // 2: "same" for odd kernels at stride 1, and for even kernels at stride 2
    on an even map exactly TFLite's SAME — unlike a 3×3 stride-2 conv, whose symmetric padding the TFLite export
    writes as a separate PAD op with its own (padded) activation tensor.
    """
    layers = OrderedDict(
        conv=nn.Conv2d(in_channels, out_channels, kernel, stride, (kernel - 1) // 2 if padding is None else padding,
                       groups=groups, bias=False),
        bn=nn.BatchNorm2d(out_channels),
    )
    if act is not None:
        layers["act"] = act()
    return nn.Sequential(layers)


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a scaled channel count to a multiple of `divisor` without losing more than 10 % (MobileNet rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def check_input_size(arch: str, downsample: str, input_size: int, total_stride: int) -> None:
    """Every pooling window must tile its feature map exactly (SAP reshapes windows), so the input must be a
    multiple of the network's total stride."""
    if input_size % total_stride:
        raise BadInputError(
            f"{arch} with {downsample} downsampling needs input_size to be a multiple of {total_stride}; "
            f"got {input_size}")


def total_stride(stem_stride: int, stage_strides: str) -> int:
    return stem_stride * math.prod(int(s) for s in stage_strides)


def init_conv_weights(model: nn.Module) -> None:
    """He init (fan-out) for convs, unit BN, as torchvision's MobileNetV2/ResNet; Linear layers keep their own."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


def global_average_pool(final_size: int) -> nn.Module:
    """Global average pooling of a final_size² map; nothing when the map is already 1×1.

    litert-torch lowers a mean over one pixel to an int8 SUM, which TFLite-Micro computes differently from the
    reference kernels (DESIGN.md §3); the flatten that follows is all a 1×1 map needs.
    """
    return nn.AdaptiveAvgPool2d(1) if final_size > 1 else nn.Identity()
