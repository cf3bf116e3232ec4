"""ONNX ops of transformer exports → torch: LayerNormalization, Gelu (and Erf inside GELU's pattern, fuse_gelu.py).

LayerNormalization becomes an nn.LayerNorm over the axes from `axis` on (its Scale and B as the layer's
parameters), which the quantiser writes out as int8 MEAN/SUB/MUL/ADD/RSQRT; Gelu becomes F.gelu, exact or with
the tanh approximation (TFLite's int8 GELU has both).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sapool.frontends.onnx.builder import FxBuilder, Value
from sapool.frontends.onnx.node import OnnxNode
from sapool.frontends.onnx.values import constant, normalize_axis, traced


def layer_normalization(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = traced(node, inputs[0])
    axis = normalize_axis(node.attr("axis", -1), len(x.shape))
    shape = tuple(x.shape[axis:])
    scale = constant(node, inputs[1], "scale").float().expand(shape)
    bias = constant(node, inputs[2], "bias").float().expand(shape) if len(inputs) > 2 and inputs[2] is not None \
        else None
    layer = nn.LayerNorm(shape, eps=float(node.attr("epsilon", 1e-5)), bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(scale)
        if bias is not None:
            layer.bias.copy_(bias)
    return b.module(layer, x, name=node.name)


def gelu(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    approximate = node.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise node.unsupported(f"approximate={approximate!r}")
    return b.call(F.gelu, inputs[0], approximate=approximate, name=node.name)
