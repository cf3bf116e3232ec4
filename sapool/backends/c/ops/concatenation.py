"""CONCATENATION → reference/concatenation.c: per slice of the leading dimensions, one chunk from each input.

TFLite's int8 kernel requires every input to share the output's scale and zero point (no requantisation), so
the op only moves bytes. Constant inputs are read from flash like any other operand.
"""

from __future__ import annotations

import math

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("CONCATENATION",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, *op.inputs, op.outputs[0])
    result = graph.tensor(op.outputs[0])
    if any((scale(graph.tensor(i)), zero_point(graph.tensor(i))) != (scale(result), zero_point(result))
           for i in op.inputs):
        raise UnsupportedError("inputs with a different scale or zero point than the output")
    if getattr(op.options, "activation", "NONE") != "NONE":
        raise UnsupportedError(f"fused activation {op.options.activation}")
    axis = _axis(graph, op)
    shapes = [graph.tensor(i).shape for i in op.inputs]
    expected = list(shapes[0])
    expected[axis] = sum(shape[axis] for shape in shapes)
    if any(len(s) != len(expected) or s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]
           for s in shapes) or tuple(expected) != result.shape:
        raise UnsupportedError(f"shapes {[list(s) for s in shapes]} do not concatenate to {list(result.shape)}")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    axis = _axis(graph, op)
    result = graph.tensor(op.outputs[0])
    chunks = [math.prod(graph.tensor(i).shape[axis:]) for i in op.inputs]
    chunk_array = ctx.array(f"sapool_l{op.index}_chunks", "int32_t", chunks)
    inputs = ", ".join(ctx.tensor_pointer(i) for i in op.inputs)
    call = (f"sapool_concatenation_s8({math.prod(result.shape[:axis])}, {len(chunks)}, "
            f"(const int8_t *const[]){{{inputs}}}, {chunk_array}, {ctx.tensor_pointer(op.outputs[0])});")
    return LoweredOp((call,), ("reference/concatenation.c",))


def _axis(graph: Graph, op: Op) -> int:
    rank = len(graph.tensor(op.outputs[0]).shape)
    return op.options.axis % rank
