"""FUSED_WINDOW_POOL (passes/fuse_window.py) → reference/window_pool.c: SOFTMAX → MUL → MEAN per window.

Every constant is the unfused ops' own (softmax.emit_params with one row, elementwise.kernel_fields for the MUL,
mean.emit_params), so the kernel's arithmetic is theirs; only the order changes (window by window) and the
movement ops become strides (`fuse_window.window_strides`). The MUL's offsets are given with the probabilities'
first: the integer product is the same either way round.
"""

from __future__ import annotations

from sapool.backends.c.emit import EmitContext, LoweredOp, RenamedContext
from sapool.backends.c.ops import elementwise, mean, reshape, softmax, transpose
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.passes.fuse_window import FUSED_WINDOW_POOL, window_strides

OPCODES = (FUSED_WINDOW_POOL,)


def check(graph: Graph, op: Op) -> None:
    options = op.options
    for part in (*options.weights_chain, *options.values_chain):
        (transpose if part.opcode == "TRANSPOSE" else reshape).check(graph, part)
    softmax.check(graph, options.softmax)
    elementwise.check(graph, options.mul)
    mean.check(graph, options.mean)
    if window_strides(graph, options) is None:
        raise UnsupportedError("the window views are not strided walks of their sources")


def scratch_bytes(graph: Graph, op: Op) -> int:
    """One window of probabilities: k² bytes (the softmax runs in it, in place)."""
    return graph.tensor(op.options.softmax.outputs[0]).shape[-1]


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    options = op.options
    walk = window_strides(graph, options)
    softmax_params, table = softmax.emit_params(RenamedContext(ctx, "_softmax"), graph, options.softmax, rows=1)
    _, fields = elementwise.kernel_fields(graph, options.mul)
    if options.mul.inputs[0] != options.softmax.outputs[0]:
        fields["input1_offset"], fields["input2_offset"] = fields["input2_offset"], fields["input1_offset"]
    mul_params = ctx.struct(f"sapool_l{op.index}_mul", "sapool_mul_params", fields)  # shape unused: zeros
    mean_params = mean.emit_params(RenamedContext(ctx, "_mean"), graph, options.mean)
    params = ctx.struct(f"sapool_l{op.index}_window", "sapool_window_pool_params", {
        "rows": list(walk.rows), "weights_row_strides": list(walk.weights_row_strides),
        "values_row_strides": list(walk.values_row_strides), "window": list(walk.window),
        "weights_window_strides": list(walk.weights_window_strides),
        "values_window_strides": list(walk.values_window_strides)})
    m, x = (ctx.tensor_pointer(i) for i in op.inputs)
    call = (f"sapool_window_pool_s8({params}, {softmax_params}, {table}, {mul_params}, {mean_params}, {m}, {x}, "
            f"{ctx.tensor_pointer(op.outputs[0])}, {ctx.scratch_pointer(op.index)});")
    return LoweredOp((call,), ("reference/window_pool.c", "reference/softmax.c", "reference/mean.c"),
                     comment="SOFTMAX + MUL + MEAN over each window fused: one window at a time")
