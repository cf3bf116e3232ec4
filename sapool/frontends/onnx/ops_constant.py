"""Constant, and the shape-arithmetic ops exporters emit around Reshape (Shape, Cast, ConstantOfShape, Equal,
Where, Expand, Range, Size). Every shape is static, so these fold to constants at conversion time; applied to
run-time data (other than a float → float Cast, or Expand) they are refused."""

from __future__ import annotations

import numpy as np
import torch

from sapool.frontends.onnx.builder import Const, FxBuilder, Traced, Value
from sapool.frontends.onnx.node import OnnxNode
from sapool.frontends.onnx.values import constant, constant_ints


# Constant's attribute → the numpy dtype ONNX gives it (a bare Python float would become float64).
CONSTANT_ATTRIBUTES = {"value": None, "value_float": np.float32, "value_floats": np.float32,
                       "value_int": np.int64, "value_ints": np.int64}


def constant_node(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    for key, dtype in CONSTANT_ATTRIBUTES.items():
        if key in node.attributes:
            return Const(torch.from_numpy(np.array(node.attributes[key], dtype=dtype)))
    raise node.unsupported(f"attribute {', '.join(node.attributes) or '(none)'} (sapool reads numeric tensors)")


def shape(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    dims = inputs[0].shape
    start, end = node.attr("start", 0), node.attr("end", len(dims))
    return Const(torch.tensor(dims[start:end], dtype=torch.int64))


def size(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    return Const(torch.tensor(int(np.prod(inputs[0].shape)), dtype=torch.int64))


def cast(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    from onnx.helper import tensor_dtype_to_np_dtype

    x = inputs[0]
    dtype = torch.from_numpy(np.zeros(0, dtype=tensor_dtype_to_np_dtype(node.attr("to")))).dtype
    if isinstance(x, Const):
        return Const(x.value.to(dtype))
    if x.example.dtype == dtype:
        return x
    raise node.unsupported(f"a cast of run-time data from {x.example.dtype} to {dtype}")


def constant_of_shape(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    fill = node.attr("value", np.zeros(1, dtype=np.float32))
    value = torch.from_numpy(np.array(fill)).reshape(-1)[0]
    return Const(torch.full(tuple(constant_ints(node, inputs[0], "shape")), value.item(), dtype=value.dtype))


def expand(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """ONNX Expand broadcasts both ways: the output shape is the broadcast of the input's and the given one."""
    target = torch.broadcast_shapes(tuple(inputs[0].shape), tuple(constant_ints(node, inputs[1], "shape")))
    return b.call(torch.broadcast_to, inputs[0], tuple(target), name=node.name)


def fold_only(function):
    """An op computed at conversion time from constant inputs only (Equal, Where, Range, Sqrt, Mod, ...)."""
    def handler(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
        if any(isinstance(value, Traced) for value in inputs):
            raise node.unsupported("applied to run-time data (sapool folds it only in constant shape arithmetic)")
        return Const(function(*(constant(node, value, "input") for value in inputs)))
    return handler


def _range(start: torch.Tensor, limit: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    return torch.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype)


def mod(b: FxBuilder, node: OnnxNode, inputs: list[Value | None]) -> Value:
    """ONNX Mod: the sign of the divisor (torch.remainder), or of the dividend with fmod=1 (torch.fmod)."""
    return fold_only(torch.fmod if node.attr("fmod", 0) else torch.remainder)(b, node, inputs)


# shape arithmetic exporters write (TorchScript's attention: Shape → Gather → Cast → Sqrt → Div for 1/√d)
FOLD_ONLY = {"Equal": fold_only(torch.eq), "Where": fold_only(torch.where), "Range": fold_only(_range),
             "Sqrt": fold_only(torch.sqrt), "Mod": mod, "Floor": fold_only(torch.floor),
             "Ceil": fold_only(torch.ceil), "Pow": fold_only(torch.pow), "Neg": fold_only(torch.neg),
             "Reciprocal": fold_only(torch.reciprocal), "Less": fold_only(torch.lt),
             "Greater": fold_only(torch.gt), "Not": fold_only(torch.logical_not)}
