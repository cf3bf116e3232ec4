"""ONNX ops with weights → torch layers: Conv, Gemm, MatMul (constant right side), BatchNormalization.

Weights become nn.Conv1d/2d, nn.Linear and nn.BatchNorm1d/2d parameters (not buffers), so the PT2E quantiser
recognises the layers and quantises convolution and linear weights per output channel.
"""

from __future__ import annotations

import torch
from torch import nn

from sapool.frontends.onnx.builder import Const, FxBuilder, Traced, Value
from sapool.frontends.onnx.node import OnnxNode
from sapool.frontends.onnx.values import constant, spatial_pads, symmetric_padding, traced

CONV_LAYERS = {1: nn.Conv1d, 2: nn.Conv2d}
BATCH_NORMS = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d}


def conv(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Conv (groups incl. depthwise, strides, dilations, pads or auto_pad); asymmetric pads → explicit Pad."""
    x = traced(node, inputs[0])
    weight = constant(node, inputs[1], "weight")
    bias = constant(node, inputs[2], "bias") if len(inputs) > 2 and inputs[2] is not None else None
    spatial = weight.dim() - 2
    if spatial not in CONV_LAYERS:
        raise node.unsupported(f"{spatial}-D convolution (sapool converts 1-D and 2-D)")
    kernel = tuple(weight.shape[2:])
    strides = tuple(node.attr("strides", [1] * spatial))
    dilations = tuple(node.attr("dilations", [1] * spatial))
    groups = node.attr("group", 1)
    pads = spatial_pads(node, x.shape[2:], kernel, strides, dilations)
    x, padding = symmetric_padding(b, node, x, pads, [(k - 1) * d + 1 for k, d in zip(kernel, dilations)], 0.0)
    layer = CONV_LAYERS[spatial](weight.shape[1] * groups, weight.shape[0], kernel, stride=strides,
                                 padding=padding, dilation=dilations, groups=groups, bias=bias is not None)
    _set_parameters(layer, weight, bias)
    return b.module(layer, x, name=node.name)


def gemm(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Y = alpha·A'·B' + beta·C; with a constant B and a bias-shaped C, an nn.Linear (alpha, beta folded in)."""
    a, right = inputs[0], inputs[1]
    c = inputs[2] if len(inputs) > 2 else None
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    if node.attr("transA", 0):
        a = b.call(torch.transpose, a, 0, 1, name=f"{node.name}_transpose_a")
    if isinstance(a, Traced) and isinstance(right, Const) and (c is None or _is_bias(c, right, node)):
        weight = right.value if node.attr("transB", 0) else right.value.T  # nn.Linear stores (out, in)
        bias = None if c is None else beta * c.value.reshape(-1).expand(weight.shape[0])
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
        _set_parameters(layer, alpha * weight, bias)
        return b.module(layer, a, name=node.name)
    if node.attr("transB", 0):
        right = b.call(torch.transpose, right, 0, 1, name=f"{node.name}_transpose_b")
    y = b.call(torch.matmul, a, right, name=f"{node.name}_matmul")
    if alpha != 1.0:
        y = b.call(torch.mul, y, alpha, name=f"{node.name}_alpha")
    if c is not None:
        c = c if beta == 1.0 else b.call(torch.mul, c, beta, name=f"{node.name}_beta")
        y = b.call(torch.add, y, c, name=node.name)
    return y


def matmul(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """A @ B; a constant 2-D B becomes an nn.Linear (weight = Bᵀ), with the bias that fuse.fuse_matmul_bias
    attached as a third input when the file adds one right after."""
    a, right = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    if isinstance(a, Traced) and isinstance(right, Const) and right.value.dim() == 2:
        layer = nn.Linear(right.value.shape[0], right.value.shape[1], bias=bias is not None)
        _set_parameters(layer, right.value.T, None if bias is None else bias.value.reshape(-1))
        return b.module(layer, a, name=node.name)
    if bias is not None:  # a fused pair whose left side turned out constant: add the bias back
        return b.call(torch.add, b.call(torch.matmul, a, right, name=f"{node.name}_matmul"), bias, name=node.name)
    return b.call(torch.matmul, a, right, name=node.name)


def batch_normalization(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Inference-mode BatchNormalization (training_mode=1 is refused) as nn.BatchNorm1d/2d."""
    if node.attr("training_mode", 0):
        raise node.unsupported("training_mode=1 (export the model in eval mode)")
    x = traced(node, inputs[0])
    scale, shift, mean, var = (constant(node, value, what) for value, what in
                               zip(inputs[1:5], ("scale", "bias", "mean", "var")))
    if x.example.dim() not in BATCH_NORMS:
        raise node.unsupported(f"input of rank {x.example.dim()} (sapool converts rank 2 to 4)")
    layer = BATCH_NORMS[x.example.dim()](scale.numel(), eps=float(node.attr("epsilon", 1e-5)))
    _set_parameters(layer, scale, shift)
    layer.running_mean.copy_(mean.float())
    layer.running_var.copy_(var.float())
    return b.module(layer, x, name=node.name)


def _is_bias(c: Value, right: Const, node: OnnxNode) -> bool:
    """C can be an nn.Linear bias: constant, and one value per output or one value for all."""
    outputs = right.value.shape[0 if node.attr("transB", 0) else 1]
    return isinstance(c, Const) and c.value.numel() in (1, outputs) and c.value.dim() <= 2


def _set_parameters(layer: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
    with torch.no_grad():
        layer.weight.copy_(weight.float().reshape(layer.weight.shape))
        if bias is not None:
            layer.bias.copy_(bias.float().reshape(layer.bias.shape))
