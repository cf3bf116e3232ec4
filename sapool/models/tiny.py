""""mcunet": a MobileNetV2-like network sized for a microcontroller demo (64×64 input, ≤ 250k parameters).

stem (4×4 conv s2 → 8 channels, then a stride-2 depthwise-separable block with a 4×4 depthwise conv) brings
64×64 to 16×16 in every configuration (4×4 kernels at stride 2 with padding 1 are TFLite SAME convs; 3×3 ones
would be exported with a PAD op whose padded copy was the aggressive network's planned peak). Then four
inverted-residual stages with strides `1222` ("standard") or `4221` ("aggressive": the first pooling layer
downsamples ×4, the last stage keeps stride 1 so a 64×64 input still ends at 1×1).
Why not pool ×4 straight after the stem conv (32×32)? The window-normalised SAP needs patch size p < s, and at
p = 2 a 32×32 map is 256 tokens: 2 heads × 256² int8 attention scores = 128 KB, twice the demo's budget. At
16×16 the same layer has 64 tokens (8 KB of scores).
Measured at 64×64, 1 channel (profile.py's largest layer input + output): aggressive 12,288 B for every pooling
kind (the stem conv), standard 49,152 B (stage 1 at 16×16; 139,264 B with "sap", whose stride-2 stage-2 SAP needs
p = 1: 256 tokens) — 4.0×; with RGB input 20,480 vs 49,152 B (2.4×). footprint.py's planned int8 arena
(1 channel): 12,288 B aggressive (17,408 B with "sap": scores and their softmax) vs 53,248 B standard.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from sapool.models.blocks import check_input_size, conv_bn, make_divisible, total_stride
from sapool.models.config import ModelConfig
from sapool.models.mobilenetv2 import InvertedResidual, InvertedResidualNet, inverted_residual_stages

STEM_CHANNELS = 8
STEM_STRIDE = 4  # a conv at stride 2, then the stride-2 depthwise-separable block
STEM_KERNEL = 4
STAGES = ((6, 16, 2), (6, 24, 2), (6, 40, 2), (6, 64, 1))  # (t, c, n) as in MobileNetV2
STAGE_STRIDES = {"standard": "1222", "aggressive": "4221"}
SAP_PATCH_SIZES = (4, 2, 1, 1)  # the paper's ResNet (4-stage) patch sizes
HEAD_CHANNELS = 160


class McuNet(InvertedResidualNet):
    """stem (conv, block) → features.stage1…4 → head (1×1 conv) → global average pool → classifier."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config  # the network carries its own description (pruner, profiler, checkpoints)
        strides = STAGE_STRIDES[config.downsample]
        check_input_size("mcunet", config.downsample, config.input_size, total_stride(STEM_STRIDE, strides))
        stem_channels = make_divisible(STEM_CHANNELS * config.width, 4)
        self.stem = nn.Sequential(OrderedDict(
            conv=conv_bn(config.in_channels, stem_channels, STEM_KERNEL, 2, act=nn.ReLU6),
            block=InvertedResidual(stem_channels, stem_channels, 1, stride=2, kernel=STEM_KERNEL),
        ))
        self.features, channels = inverted_residual_stages(
            config, STAGES, strides, SAP_PATCH_SIZES, stem_channels, config.input_size // STEM_STRIDE)
        head_channels = make_divisible(HEAD_CHANNELS * config.width)
        self.add_head(config, channels, head_channels, config.input_size // total_stride(STEM_STRIDE, strides))
