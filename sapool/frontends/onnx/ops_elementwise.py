"""ONNX element-wise ops, activations, Softmax and ReduceMean → torch functions (broadcasting as ONNX)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from sapool.frontends.onnx.builder import Const, FxBuilder, Traced, Value
from sapool.frontends.onnx.node import OnnxNode
from sapool.frontends.onnx.values import constant, constant_ints, normalize_axis


def binary(function):
    """Add/Sub/Mul: one torch function on two operands (constants become buffers)."""
    def handler(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
        return b.call(function, inputs[0], inputs[1], name=node.name)
    return handler


def variadic(function):
    """Sum, Max, Min of any number of operands (Caffe2-exported ResNets use Sum) as a chain of binary ops."""
    def handler(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
        total = inputs[0]
        for index, operand in enumerate(inputs[1:], start=1):
            name = node.name if index == len(inputs) - 1 else f"{node.name}_{index}"
            total = b.call(function, total, operand, name=name)
        return total
    return handler


def prelu(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """PRelu with one slope, or one per channel (slope broadcast to shape 1×C×1×1) → F.prelu; any other slope
    shape → relu(x) + slope·min(x, 0)."""
    x = inputs[0]
    slope = constant(node, inputs[1], "slope")
    rank = len(x.shape)
    aligned = (1,) * (rank - slope.dim()) + tuple(slope.shape)  # ONNX broadcasts the slope from the right
    per_channel = rank > 1 and aligned == tuple(x.shape[1] if axis == 1 else 1 for axis in range(rank))
    if slope.numel() == 1 or per_channel:
        return b.call(F.prelu, x, slope.reshape(-1).float(), name=node.name)
    positive = b.call(F.relu, x, name=f"{node.name}_positive")
    negative = b.call(torch.clamp, x, None, 0.0, name=f"{node.name}_negative_part")
    negative = b.call(torch.mul, negative, slope, name=f"{node.name}_negative")
    return b.call(torch.add, positive, negative, name=node.name)


def div(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Float division; by a constant it is a multiplication by the reciprocal (an int8 MUL, which every
    TFLite-Micro build has; within an ulp of the quotient). Integer division (shape arithmetic) truncates."""
    numerator, denominator = inputs[0], inputs[1]
    if isinstance(numerator, Traced) and isinstance(denominator, Const) and denominator.value.is_floating_point():
        return b.call(torch.mul, numerator, 1.0 / denominator.value, name=node.name)
    if any(_example(value).is_floating_point() for value in inputs):
        return b.call(torch.div, inputs[0], inputs[1], name=node.name)
    return b.call(torch.div, inputs[0], inputs[1], rounding_mode="trunc", name=node.name)


def unary(function, **fixed):
    """Relu, Sigmoid, Tanh, HardSwish: one torch function of the input."""
    def handler(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
        return b.call(function, inputs[0], **fixed, name=node.name)
    return handler


def leaky_relu(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    return b.call(F.leaky_relu, inputs[0], float(node.attr("alpha", 0.01)), name=node.name)


def clip(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Clip(0, 6) → hardtanh(0, 6) (what nn.ReLU6 traces to, so the quantiser fuses it like sapool's own ReLU6),
    Clip(0, ∞) → relu, else clamp; bounds are attributes before opset 11, inputs after."""
    if node.opset < 11:
        low, high = node.attr("min"), node.attr("max")
    else:
        low, high = _optional_scalar(node, inputs, 1, "min"), _optional_scalar(node, inputs, 2, "max")
    low = None if low is None or math.isinf(low) else float(low)
    high = None if high is None or math.isinf(high) else float(high)
    if low == 0.0 and high == 6.0:
        return b.call(F.hardtanh, inputs[0], 0.0, 6.0, name=node.name)
    if low == 0.0 and high is None:
        return b.call(F.relu, inputs[0], name=node.name)
    if low is None and high is None:
        return inputs[0]
    return b.call(torch.clamp, inputs[0], low, high, name=node.name)


def softmax(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Opset ≥ 13: along `axis` (default -1). Before 13 the input is seen as 2-D, split before `axis`
    (default 1): softmax over all trailing axes, computed on a reshaped view."""
    x = inputs[0]
    rank = len(x.shape)
    if node.opset >= 13:
        return b.call(F.softmax, x, normalize_axis(node.attr("axis", -1), rank), name=node.name)
    axis = normalize_axis(node.attr("axis", 1), rank)
    if axis == rank - 1:
        return b.call(F.softmax, x, -1, name=node.name)
    flat = b.call(torch.reshape, x, (math.prod(x.shape[:axis]), -1), name=f"{node.name}_flatten")
    y = b.call(F.softmax, flat, -1, name=node.name)
    return b.call(torch.reshape, y, x.shape, name=f"{node.name}_unflatten")


def reduce_mean(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """Axes are an attribute before opset 18 and an optional input from 18 on; no axes → all (or a no-op)."""
    x = inputs[0]
    if node.opset < 18:
        axes = node.attr("axes")
    else:
        axes = constant_ints(node, inputs[1], "axes") if len(inputs) > 1 and inputs[1] is not None else None
    if not axes:
        if node.attr("noop_with_empty_axes", 0):
            return x
        axes = range(len(x.shape))
    dims = tuple(sorted(normalize_axis(axis, len(x.shape)) for axis in axes))
    return b.call(torch.mean, x, dim=dims, keepdim=bool(node.attr("keepdims", 1)), name=node.name)


def _optional_scalar(node: OnnxNode, inputs: list[Value | None], index: int, what: str) -> float | None:
    if len(inputs) <= index or inputs[index] is None:
        return None
    return float(constant(node, inputs[index], what))


def _example(value: Value) -> torch.Tensor:
    return value.value if isinstance(value, Const) else value.example
