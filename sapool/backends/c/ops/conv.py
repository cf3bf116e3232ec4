"""CONV_2D and DEPTHWISE_CONV_2D → reference/conv.c and reference/depthwise_conv.c; grouped CONV_2D (filter depth
a divisor of the input depth, as TFLite's reference kernel allows) → reference/grouped_conv.c.

Prepare-time work done here, as TFLite's PopulateConvolutionQuantizationParams does it: per output channel the
effective scale input_scale · filter_scale[c] / output_scale in double, decomposed by QuantizeMultiplier; the
activation clamp; the padding. Both fold input_offset · Σ filter[c] into a bias: CONV_2D everywhere (its kernel
pads patches with the input zero point, see conv.c), DEPTHWISE_CONV_2D for windows wholly inside the input.
For kernels/arm/, CONV_2D filters also get the pair-interleaved order, depth-multiplier-1 DEPTHWISE_CONV_2D
filters the channel-grouped one, and both ops' shifts the pre-decoded form (sapool/backends/c/arm_layout.py).
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.arm_layout import channel_grouped, conv_gathers_pairs, encoded_shifts, pair_interleaved
from sapool.backends.c.emit import EmitContext, LoweredOp, WindowCall
from sapool.backends.c.geometry import check_output_size, leading_padding
from sapool.backends.c.quant import quantize_multiplier
from sapool.backends.c.tensors import clamp_range, nhwc, require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("CONV_2D", "DEPTHWISE_CONV_2D")


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    weights = graph.tensor(op.inputs[1])
    if weights.dtype != "int8" or not weights.is_constant or weights.quantization is None:
        raise UnsupportedError("the filter must be constant int8 with quantisation parameters")
    if any(zp != 0 for zp in weights.quantization.zero_point):
        raise UnsupportedError("the filter has a non-zero zero point")
    bias = _bias_index(op)
    if bias is not None and (graph.tensor(bias).dtype != "int32" or not graph.tensor(bias).is_constant):
        raise UnsupportedError("the bias must be constant int32")
    in_c, out_c, filter_c = (nhwc(tensor)[3] for tensor in (graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0]),
                                                              weights))
    if op.opcode == "CONV_2D" and (in_c % filter_c or out_c % (in_c // filter_c)):
        raise UnsupportedError(f"filter depth {filter_c} does not split input depth {in_c} and output depth "
                               f"{out_c} into equal groups")
    if op.opcode == "DEPTHWISE_CONV_2D" and (filter_c != out_c or out_c % in_c):
        raise UnsupportedError(f"depthwise filter depth {filter_c} for input depth {in_c}, output depth {out_c}")
    check_output_size(graph, op)
    clamp_range(op.options.activation, graph.tensor(op.outputs[0]))


def scratch_bytes(graph: Graph, op: Op) -> int:
    """CONV_2D gathers one im2col patch per output pixel unless the kernel is 1x1 (which never pads); two where
    the arm kernel gathers windows in pairs (few input channels, arm_layout.conv_gathers_pairs): one plan serves
    both kernel sets. The grouped kernel (no arm twin) gathers one group's patch at a time, 1x1 included."""
    if op.opcode != "CONV_2D":
        return 0
    _, kernel_h, kernel_w, in_c = graph.tensor(op.inputs[1]).shape  # in_c: the filter depth, a group's
    patch = kernel_h * kernel_w * in_c
    if _groups(graph, op) > 1:
        return patch
    if kernel_h == kernel_w == 1:
        return 0
    return 2 * patch if conv_gathers_pairs(kernel_h, kernel_w, in_c) else patch


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    call = window_call(ctx, graph, op, f"sapool_l{op.index}")
    params = ctx.struct(f"sapool_l{op.index}_params", call.params_type, call.fields)
    statement = call.statement(params, ctx.tensor_pointer(op.inputs[0]), ctx.tensor_pointer(op.outputs[0]),
                               ctx.scratch_pointer(op.index))
    return LoweredOp((statement,), (call.source,))


def window_call(ctx: EmitContext, graph: Graph, op: Op, prefix: str) -> WindowCall:
    """Emit `op`'s constants (named `prefix`_…) and return its kernel call with its parameters for the whole image."""
    source, weights, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    options = op.options
    batches, in_h, in_w, in_c = source.shape
    _, out_h, out_w, out_c = result.shape
    _, kernel_h, kernel_w, _ = weights.shape
    stride_h, stride_w = options.stride_h, options.stride_w
    dilation_h, dilation_w = options.dilation_h, options.dilation_w
    act_min, act_max = clamp_range(options.activation, result)
    input_offset = -zero_point(source)

    multipliers, shifts = zip(*(quantize_multiplier(scale(source) * s / scale(result))
                                for s in _per_channel(weights.quantization.scale, out_c)))
    bias = _bias_values(graph, op, out_c)
    params = {
        "batches": batches, "in_h": in_h, "in_w": in_w, "in_c": in_c,
        "out_h": out_h, "out_w": out_w, "out_c": out_c, "kernel_h": kernel_h, "kernel_w": kernel_w,
        "stride_h": stride_h, "stride_w": stride_w, "dilation_h": dilation_h, "dilation_w": dilation_w,
        "pad_top": leading_padding(graph, op)[0], "pad_left": leading_padding(graph, op)[1],
        "depth_multiplier": out_c // in_c if op.opcode == "DEPTHWISE_CONV_2D" else 1,
        "input_offset": input_offset, "output_offset": zero_point(result), "act_min": act_min, "act_max": act_max,
    }
    multiplier = ctx.array(f"{prefix}_multiplier", "int32_t", multipliers)
    shift = ctx.array(f"{prefix}_shift", "int32_t", shifts)
    filter_array = ctx.tensor_array(op.inputs[1])
    filters = np.frombuffer(weights.data, np.int8).astype(np.int64)
    # Σ filter per output channel: CONV_2D filters are [out_c, kh, kw, depth], depthwise ones [1, kh, kw, out_c]
    filter_sums = (filters.reshape(out_c, -1).sum(axis=1) if op.opcode == "CONV_2D"
                   else filters.reshape(-1, out_c).sum(axis=0))
    folded_bias = ctx.array(f"{prefix}_folded_bias", "int32_t", _int32(bias + input_offset * filter_sums))
    if op.opcode == "CONV_2D" and _groups(graph, op) > 1:  # portable only: no arm twin, constants in plain order
        return WindowCall("sapool_grouped_conv2d_s8", "sapool_conv_params", params,
                          (filter_array, folded_bias, multiplier, shift), "reference/grouped_conv.c",
                          takes_scratch=True, leading=(str(_groups(graph, op)),))
    ctx.arm_layout(shift, encoded_shifts(shifts))
    if op.opcode == "CONV_2D":
        rows = np.frombuffer(weights.data, np.int8).reshape(out_c, kernel_h, kernel_w * in_c)
        ctx.arm_layout(filter_array, pair_interleaved(rows))
        return WindowCall("sapool_conv2d_s8", "sapool_conv_params", params,
                          (filter_array, folded_bias, multiplier, shift), "reference/conv.c", takes_scratch=True)
    if out_c == in_c:  # depth multiplier 1: kernels/arm/depthwise_conv.c reads channel groups
        taps = np.frombuffer(weights.data, np.int8).reshape(kernel_h * kernel_w, out_c)
        ctx.arm_layout(filter_array, channel_grouped(taps))
    plain_bias = ctx.array(f"{prefix}_bias", "int32_t", _int32(bias))
    return WindowCall("sapool_depthwise_conv2d_s8", "sapool_conv_params", params,
                      (filter_array, plain_bias, folded_bias, multiplier, shift), "reference/depthwise_conv.c")


def _groups(graph: Graph, op: Op) -> int:
    """CONV_2D's groups: input depth / filter depth (1 for an ordinary convolution)."""
    return graph.tensor(op.inputs[0]).shape[-1] // graph.tensor(op.inputs[1]).shape[-1]


def _bias_index(op: Op) -> int | None:
    return op.inputs[2] if len(op.inputs) > 2 else None


def _bias_values(graph: Graph, op: Op, channels: int) -> np.ndarray:
    index = _bias_index(op)
    if index is None:
        return np.zeros(channels, np.int64)
    return np.frombuffer(graph.tensor(index).data, "<i4").astype(np.int64)


def _per_channel(scales: tuple[float, ...], channels: int) -> tuple[float, ...]:
    return scales if len(scales) > 1 else scales * channels


def _int32(values: np.ndarray) -> np.ndarray:
    if values.min(initial=0) < -(1 << 31) or values.max(initial=0) >= 1 << 31:
        raise UnsupportedError("the folded bias does not fit int32")
    return values.astype(np.int32)
