"""Every pooling method behind one interface: `make_pool(kind, channels, stride, **sap_kwargs)`,
C×H×W → C×H/s×W/s.

Kinds (ModelConfig.pool): "sap" and "sap-nowin" (sap.SAPool, window-normalised or not), "max", "avg",
"strided" (a learned depthwise s×s stride-s conv + BN) and "lip" (logit-weighted pooling). The networks place
the layer the same way for every kind — in front of a stage whose stride it takes over — so comparisons differ
in the pooling operator only. (The official code's "skip" baseline instead keeps the stride inside the block's
3×3 depthwise conv; with s = 4 that conv skips pixels, so sapool uses the learned s×s conv.)
"""

from __future__ import annotations

from torch import nn

from sapool.errors import BadInputError
from sapool.models.blocks import conv_bn
from sapool.models.config import POOLS, ModelConfig
from sapool.models.sap import SAPool, WindowSoftmaxPool, patch_size_for


class LIPool(nn.Module):
    """Local importance pooling as the SAP paper's baseline: w = exp(Sigmoid(BN(Conv1×1(x)))),
    y = AvgPool_s(x·w) / AvgPool_s(w), computed as a window softmax of the logits (exportable, no EXP/DIV).

    Channels: `logit.conv` in and out, `logit.bn` are all the stream's channels.
    """

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.logit = conv_bn(channels, channels, 1, act=nn.Sigmoid)
        self.pool = WindowSoftmaxPool(stride)

    def forward(self, x):
        return self.pool(x, self.logit(x))


def make_pool(kind: str, channels: int, stride: int, **sap_kwargs) -> nn.Module:
    """A pooling layer of `kind`. SAP kinds need `input_size` and `patch_size` (and take heads, embed_ratio, form)."""
    if stride < 1:
        raise BadInputError(f"pooling stride must be >= 1, got {stride}")
    if kind in ("sap", "sap-nowin"):
        return SAPool(channels, stride, normalized=kind == "sap", **sap_kwargs)
    if sap_kwargs:
        raise BadInputError(f"{kind} pooling takes no SAP options; got {', '.join(sorted(sap_kwargs))}")
    if kind == "max":
        return nn.MaxPool2d(stride, stride)
    if kind == "avg":
        return nn.AvgPool2d(stride, stride)
    if kind == "strided":
        # learned downsampling: depthwise conv (kernel = stride = s) + BN; conv and bn channels = the stream's
        return conv_bn(channels, channels, stride, stride, groups=channels, padding=0)
    if kind == "lip":
        return LIPool(channels, stride)
    raise BadInputError(f"pooling kind must be one of {', '.join(POOLS)}; got {kind!r}")


def stage_pool(config: ModelConfig, channels: int, stride: int, input_size: int, paper_patch: int) -> nn.Module:
    """The configured pooling layer for a stage whose input is `input_size` pixels square.

    `paper_patch` is the paper's SAP patch size for this stage; `patch_size_for` adapts it (p < s for "sap").
    """
    if config.pool not in ("sap", "sap-nowin"):
        return make_pool(config.pool, channels, stride)
    patch = patch_size_for(paper_patch, stride, input_size, normalized=config.pool == "sap")
    return make_pool(config.pool, channels, stride, input_size=input_size, patch_size=patch,
                     heads=config.sap_heads, embed_ratio=config.sap_embed_ratio)
