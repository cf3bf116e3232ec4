"""SLICE, STRIDED_SLICE → reference/transpose.c: a slice is a strided walk of the input from its first element.

What is left of a packed Q/K/V projection cut apart (torch's chunk/split/select, exporters' Slice/Gather) is a
SLICE or STRIDED_SLICE with constant bounds. Each output dimension d reads input elements start[d] + k·step[d];
so the transpose kernel runs it unchanged, from the input pointer plus Σ start[d]·stride[d], with step[d]·stride[d]
as the stride of output dimension d (dimensions merged where that walk is contiguous). Bounds follow TFLite's
strided_slice_logic (negative indices count from the end, begin/end masks, shrink-axis; clamped to the input);
ellipsis and new-axis masks and the `offset` form are refused. Bytes are copied as they are, as TFLite's kernels
do (whatever the two tensors' quantisation).
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.strides import contiguous_strides, to_rank
from sapool.backends.c.tensors import require_int8
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.ir.shapes import merge_dims

OPCODES = ("SLICE", "STRIDED_SLICE")


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    if not all(graph.tensor(i).is_constant for i in op.inputs[1:]):
        raise UnsupportedError("the slice bounds are computed at run time")
    starts, counts, steps = bounds(graph, op)
    if math.prod(counts) != graph.tensor(op.outputs[0]).num_elements:
        raise UnsupportedError(f"the slice has {math.prod(counts)} elements but the output "
                               f"{list(graph.tensor(op.outputs[0]).shape)} has another count")
    _walk(graph, op)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    first, out_dims, in_strides = _walk(graph, op)
    params = ctx.struct(f"sapool_l{op.index}_params", "sapool_transpose_params",
                        {"out_dims": out_dims, "in_strides": in_strides})
    source = f"({ctx.tensor_pointer(op.inputs[0])} + {first})"
    return LoweredOp((f"sapool_transpose_s8({params}, {source}, {ctx.tensor_pointer(op.outputs[0])});",),
                     ("reference/transpose.c",))


def bounds(graph: Graph, op: Op) -> tuple[list[int], list[int], list[int]]:
    """(start, element count, step) per input dimension."""
    shape = graph.tensor(op.inputs[0]).shape
    begin = _vector(graph, op.inputs[1])
    if op.opcode == "SLICE":
        sizes = _vector(graph, op.inputs[2])
        starts = [b % dim if dim else 0 for b, dim in zip(begin, shape)]
        counts = [dim - start if size < 0 else size for size, start, dim in zip(sizes, starts, shape)]
        if any(start + count > dim for start, count, dim in zip(starts, counts, shape)):
            raise UnsupportedError(f"slice begin {begin} size {sizes} leaves the input {list(shape)}")
        return starts, counts, [1] * len(shape)
    options = op.options
    if options.get("ellipsis_mask", 0) or options.get("new_axis_mask", 0) or options.get("offset", False):
        raise UnsupportedError("ellipsis and new-axis masks and the offset form are not supported")
    end, strides = _vector(graph, op.inputs[2]), _vector(graph, op.inputs[3])
    starts, counts = [], []
    for axis, dim in enumerate(shape):
        step = strides[axis]
        if step == 0:
            raise UnsupportedError("a stride of 0")
        start = _clamped(begin[axis], dim, step, options.get("begin_mask", 0) >> axis & 1, is_end=False)
        stop = _clamped(end[axis], dim, step, options.get("end_mask", 0) >> axis & 1, is_end=True)
        if options.get("shrink_axis_mask", 0) >> axis & 1:
            start, stop, strides[axis] = begin[axis] % dim, begin[axis] % dim + 1, 1
        starts.append(start)
        counts.append(max(0, -(-(stop - start) // strides[axis])))
    return starts, counts, strides


def _clamped(index: int, dim: int, step: int, masked: int, *, is_end: bool) -> int:
    """TFLite's StartForAxis / StopForAxis: a masked bound is the walk's first or last position; a negative index
    counts from the end; the result is clamped to the input ([0, dim] forwards, [−1, dim − 1] backwards)."""
    if masked:
        if is_end:
            return dim if step > 0 else -1
        return 0 if step > 0 else dim - 1
    if index < 0:
        index += dim
    return min(max(index, 0), dim) if step > 0 else min(max(index, -1), dim - 1)


def _walk(graph: Graph, op: Op) -> tuple[int, list[int], list[int]]:
    """The first input element, and the output dims with the input stride of each, merged, at the kernel's rank."""
    starts, counts, steps = bounds(graph, op)
    strides = contiguous_strides(graph.tensor(op.inputs[0]).shape)
    first = sum(start * stride for start, stride in zip(starts, strides))
    dims, (walk,) = merge_dims(counts, [step * stride for step, stride in zip(steps, strides)])
    return first, to_rank(dims), to_rank(walk, fill=0)


def _vector(graph: Graph, index: int) -> list[int]:
    tensor = graph.tensor(index)
    return [int(v) for v in np.frombuffer(tensor.data, np.dtype(tensor.dtype))]
