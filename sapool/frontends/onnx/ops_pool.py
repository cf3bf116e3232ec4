"""ONNX pooling → torch: MaxPool, AveragePool (count_include_pad semantics kept), GlobalAveragePool/MaxPool."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sapool.frontends.onnx.builder import FxBuilder, Value
from sapool.frontends.onnx.node import OnnxNode
from sapool.frontends.onnx.values import spatial_pads, symmetric_padding, torch_pad_order, traced

MAX_POOLS = {1: F.max_pool1d, 2: F.max_pool2d}
AVG_POOLS = {1: F.avg_pool1d, 2: F.avg_pool2d}


def max_pool(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = traced(node, inputs[0])
    kernel, strides, pads = _window(node, x.shape, MAX_POOLS)
    dilations = tuple(node.attr("dilations", [1] * len(kernel)))
    x, padding = symmetric_padding(b, node, x, pads, kernel, float("-inf"))
    return b.call(MAX_POOLS[len(kernel)], x, kernel, strides, padding, dilations,
                  ceil_mode=bool(node.attr("ceil_mode", 0)), name=node.name)


def average_pool(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """count_include_pad=0 (ONNX's default) divides by the real pixels under the window. torch does the same for
    symmetric padding; for other padding the input is zero-padded explicitly and the sum rescaled by a constant
    per-position map (window size / real pixels)."""
    x = traced(node, inputs[0])
    if any(d != 1 for d in node.attr("dilations", [])):
        raise node.unsupported("dilated average pooling")
    kernel, strides, pads = _window(node, x.shape, AVG_POOLS)
    pool = AVG_POOLS[len(kernel)]
    ceil_mode = bool(node.attr("ceil_mode", 0))
    include_pad = bool(node.attr("count_include_pad", 0))
    padded, padding = symmetric_padding(b, node, x, pads, kernel, 0.0)
    if padded is x:
        return b.call(pool, x, kernel, strides, padding, ceil_mode=ceil_mode, count_include_pad=include_pad,
                      name=node.name)
    y = b.call(pool, padded, kernel, strides, 0, ceil_mode=ceil_mode, count_include_pad=True, name=node.name)
    if include_pad:
        return y
    ones = F.pad(torch.ones((1, 1, *x.shape[2:])), torch_pad_order(pads))
    real_fraction = pool(ones, kernel, strides, 0, ceil_mode=ceil_mode, count_include_pad=True)
    return b.call(torch.mul, y, 1.0 / real_fraction, name=f"{node.name}_exclude_pad")


def global_average_pool(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = traced(node, inputs[0])
    return b.call(torch.mean, x, dim=tuple(range(2, len(x.shape))), keepdim=True, name=node.name)


def global_max_pool(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    x = traced(node, inputs[0])
    return b.call(torch.amax, x, dim=tuple(range(2, len(x.shape))), keepdim=True, name=node.name)


def _window(node: OnnxNode, shape, pools) -> tuple[tuple[int, ...], tuple[int, ...], list[tuple[int, int]]]:
    kernel = tuple(node.attr("kernel_shape", []))
    if len(kernel) not in pools or len(shape) != len(kernel) + 2:
        raise node.unsupported(f"{len(kernel)}-D pooling on a rank-{len(shape)} input (sapool converts 1-D, 2-D)")
    if len(node.outputs) > 1 and node.outputs[1]:
        raise node.unsupported("the Indices output")
    strides = tuple(node.attr("strides", [1] * len(kernel)))
    dilations = tuple(node.attr("dilations", [1] * len(kernel)))
    return kernel, strides, spatial_pads(node, shape[2:], kernel, strides, dilations)
