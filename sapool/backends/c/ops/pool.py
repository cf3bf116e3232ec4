"""AVERAGE_POOL_2D and MAX_POOL_2D → reference/pool.c.

TFLite's int8 pooling does not rescale: input and output must share scale and zero point, which is checked
here instead of silently producing a different result.
"""

from __future__ import annotations

from sapool.backends.c.emit import EmitContext, LoweredOp, WindowCall
from sapool.backends.c.geometry import check_output_size, leading_padding
from sapool.backends.c.tensors import clamp_range, nhwc, require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("AVERAGE_POOL_2D", "MAX_POOL_2D")

KERNELS = {"AVERAGE_POOL_2D": "sapool_average_pool2d_s8", "MAX_POOL_2D": "sapool_max_pool2d_s8"}


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if (scale(source), zero_point(source)) != (scale(result), zero_point(result)):
        raise UnsupportedError("input and output quantisation differ (int8 pooling does not rescale)")
    channels, out_c = nhwc(source)[3], nhwc(result)[3]
    if out_c != channels:
        raise UnsupportedError(f"output depth {out_c} differs from input depth {channels}")
    check_output_size(graph, op)
    clamp_range(op.options.activation, result)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    call = window_call(ctx, graph, op, f"sapool_l{op.index}")
    params = ctx.struct(f"sapool_l{op.index}_params", call.params_type, call.fields)
    statement = call.statement(params, ctx.tensor_pointer(op.inputs[0]), ctx.tensor_pointer(op.outputs[0]))
    return LoweredOp((statement,), (call.source,))


def window_call(ctx: EmitContext, graph: Graph, op: Op, prefix: str) -> WindowCall:
    """`op`'s kernel call with its parameters for the whole image (pools have no other constants; `prefix` unused)."""
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    options = op.options
    batches, in_h, in_w, channels = source.shape
    _, out_h, out_w, _ = result.shape
    filter_h, filter_w = options.filter_h, options.filter_w
    stride_h, stride_w = options.stride_h, options.stride_w
    act_min, act_max = clamp_range(options.activation, result)
    params = {
        "batches": batches, "in_h": in_h, "in_w": in_w, "channels": channels, "out_h": out_h, "out_w": out_w,
        "filter_h": filter_h, "filter_w": filter_w, "stride_h": stride_h, "stride_w": stride_w,
        "pad_top": leading_padding(graph, op)[0], "pad_left": leading_padding(graph, op)[1],
        "act_min": act_min, "act_max": act_max,
    }
    return WindowCall(KERNELS[op.opcode], "sapool_pool_params", params, (), "reference/pool.c")
