"""MEAN → reference/mean.c, as TFLite's reference QuantizedMeanOrSum computes an int8 mean.

TFLite sums in int32, subtracts input_zero_point · count, and requantises by input_scale/output_scale (double,
QuantizeMultiplier) with 1/count folded into the multiplier: shift = min(floor(log2 count), 32, 31 + exponent),
multiplier = (multiplier << shift) // count, exponent −= shift. The same integers are computed here.
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import quantize_multiplier
from sapool.backends.c.strides import contiguous_strides, to_rank
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.ir.shapes import merge_dims

OPCODES = ("MEAN",)

MAX_GROUPS = 3  # kept and reduced dimension groups the kernel's loop nest takes, each


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    axes_tensor = graph.tensor(op.inputs[1])
    if not axes_tensor.is_constant:
        raise UnsupportedError("the axes are computed at run time")
    _groups(graph, op)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    params = emit_params(ctx, graph, op)
    call = f"sapool_mean_s8({params}, {ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])});"
    return LoweredOp((call,), ("reference/mean.c",))


def emit_params(ctx: EmitContext, graph: Graph, op: Op) -> str:
    """The op's sapool_mean_params struct (its name for the C call); a fused kernel that sums a window itself
    reads only its requantisation fields, through sapool_mean_of_sum."""
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    (kept_dims, kept_strides), (reduced_dims, reduced_strides) = _groups(graph, op)
    count = math.prod(reduced_dims)
    multiplier, shift = _mean_multiplier(scale(source) / scale(result), count)
    return ctx.struct(f"sapool_l{op.index}_params", "sapool_mean_params", {
        "kept_dims": to_rank(kept_dims, MAX_GROUPS), "kept_strides": to_rank(kept_strides, MAX_GROUPS, fill=0),
        "reduced_dims": to_rank(reduced_dims, MAX_GROUPS),
        "reduced_strides": to_rank(reduced_strides, MAX_GROUPS, fill=0),
        "count": count, "input_zero_point": zero_point(source), "output_zero_point": zero_point(result),
        "multiplier": multiplier, "shift": shift,
    })


def _mean_multiplier(real_multiplier: float, count: int) -> tuple[int, int]:
    multiplier, exponent = quantize_multiplier(real_multiplier)
    shift = min(count.bit_length() - 1, 32, 31 + exponent)
    return (multiplier << shift) // count, exponent - shift


def _groups(graph: Graph, op: Op):
    """((kept dims, strides), (reduced dims, strides)) of the input, each merged to at most MAX_GROUPS."""
    shape = graph.tensor(op.inputs[0]).shape
    axes_tensor = graph.tensor(op.inputs[1])
    axes = {int(a) % len(shape) for a in np.frombuffer(axes_tensor.data, np.dtype(axes_tensor.dtype))}
    strides = contiguous_strides(shape)
    groups = []
    for reduced in (False, True):
        dims = [d if (i in axes) == reduced else 1 for i, d in enumerate(shape)]
        merged, (merged_strides,) = merge_dims(dims, strides)
        if len(merged) > MAX_GROUPS:
            raise UnsupportedError(f"axes {sorted(axes)} of shape {list(shape)} split into more than "
                                   f"{MAX_GROUPS} runs")
        groups.append((merged, merged_strides))
    return groups
