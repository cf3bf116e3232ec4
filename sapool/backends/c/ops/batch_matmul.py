"""BATCH_MATMUL → reference/batch_matmul.c (int8 operands, no bias, no fused activation).

TFLite's int8 kernel accumulates (lhs + lhs_offset)·(rhs + rhs_offset) in int32 and requantises with
lhs_scale·rhs_scale (a float32 product) / output_scale (double), decomposed by QuantizeMultiplier. adj_x/adj_y
become element strides; the broadcast of the batch dimensions becomes one offset pair per output batch.
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import float32_product, quantize_multiplier
from sapool.backends.c.strides import broadcast_strides
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("BATCH_MATMUL",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.inputs[1], op.outputs[0])
    lhs, rhs, result = (graph.tensor(i).shape for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if min(len(lhs), len(rhs)) < 2:
        raise UnsupportedError("operands need at least 2 dimensions")
    rows, depth, rhs_depth, cols = _matrix_dims(op, lhs, rhs)
    if depth != rhs_depth:
        raise UnsupportedError(f"inner dimensions {depth} and {rhs_depth} differ")
    try:
        batch = np.broadcast_shapes(lhs[:-2], rhs[:-2])
    except ValueError:
        raise UnsupportedError(f"batch dimensions {list(lhs[:-2])} and {list(rhs[:-2])} do not broadcast") from None
    if (*batch, rows, cols) != result:
        raise UnsupportedError(f"output shape {list(result)} is not {[*batch, rows, cols]}")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    params, lhs_offsets, rhs_offsets = emit_params(ctx, graph, op)
    operands = ", ".join(ctx.tensor_pointer(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    return LoweredOp((f"sapool_batch_matmul_s8({params}, {lhs_offsets}, {rhs_offsets}, {operands});",),
                     ("reference/batch_matmul.c",))


def emit_params(ctx: EmitContext, graph: Graph, op: Op, lhs_offsets: bool = True) -> tuple[str, str | None, str]:
    """The op's parameter struct and its per-batch lhs and rhs offset arrays (names for the C call); fused
    kernels that run a BATCH_MATMUL row by row use the same, without the lhs array when they make the lhs rows
    themselves (`lhs_offsets=False`: None in its place)."""
    lhs, rhs, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    rows, depth, _, cols = _matrix_dims(op, lhs.shape, rhs.shape)
    adj_x, adj_y = op.options.adj_x, op.options.adj_y
    multiplier, shift = quantize_multiplier(float32_product(scale(lhs), scale(rhs)) / scale(result))
    prefix = f"sapool_l{op.index}"
    params = ctx.struct(f"{prefix}_params", "sapool_batch_matmul_params", {
        "batches": math.prod(result.shape[:-2]), "rows": rows, "cols": cols, "depth": depth,
        "lhs_row_stride": 1 if adj_x else depth, "lhs_depth_stride": rows if adj_x else 1,
        "rhs_depth_stride": 1 if adj_y else cols, "rhs_col_stride": depth if adj_y else 1,
        "lhs_offset": -zero_point(lhs), "rhs_offset": -zero_point(rhs), "output_offset": zero_point(result),
        "output_multiplier": multiplier, "output_shift": shift,
    })
    batch_shape = result.shape[:-2]
    lhs_array = (ctx.array(f"{prefix}_lhs_batches", "int32_t", _batch_offsets(batch_shape, lhs.shape))
                 if lhs_offsets else None)
    rhs_array = ctx.array(f"{prefix}_rhs_batches", "int32_t", _batch_offsets(batch_shape, rhs.shape))
    return params, lhs_array, rhs_array


def _matrix_dims(op: Op, lhs, rhs) -> tuple[int, int, int, int]:
    """(rows, depth) of the lhs and (depth, cols) of the rhs after adj_x/adj_y."""
    rows, depth = (lhs[-1], lhs[-2]) if op.options.adj_x else (lhs[-2], lhs[-1])
    rhs_depth, cols = (rhs[-1], rhs[-2]) if op.options.adj_y else (rhs[-2], rhs[-1])
    return rows, depth, rhs_depth, cols


def _batch_offsets(batch_shape, operand_shape) -> list[int]:
    """Element offset of the operand's matrix for each output batch, in order (0 stride where it broadcasts)."""
    matrix = operand_shape[-1] * operand_shape[-2]
    strides = [s * matrix for s in broadcast_strides(batch_shape, operand_shape[:-2])]
    return [int(np.dot(index, strides)) if strides else 0 for index in np.ndindex(*batch_shape)] or [0]
