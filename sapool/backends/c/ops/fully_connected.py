"""FULLY_CONNECTED → reference/fully_connected.c.

The multiplier is input_scale · weight_scale / output_scale in double, per tensor or per output unit (the
float32 product of the two scales gives a multiplier a few units off in its last bits, and the reference kernels
disagree with it: tests/backends/c/test_multiplier_scales.py). input_offset · Σ weights[o] is folded into the
bias. TFLite requantises FULLY_CONNECTED with a single rounding (sapool_requantize_single).

Weights computed at run time (the converter writes a matmul by a transposed activation, e.g. attention scores
q·kᵀ on 3-D tensors, as a FULLY_CONNECTED whose weights are that activation) are an int8 tensor with its own zero
point: TFLite's reference kernel then accumulates (input + input_offset)·(weight + weight_offset). That is the
batch-matmul kernel with the weights as a transposed right-hand side, rounding once as FULLY_CONNECTED does
(`single_rounding`); the multiplier is still the scales' product in double.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.arm_layout import pair_interleaved
from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import quantize_multiplier
from sapool.backends.c.tensors import clamp_range, require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("FULLY_CONNECTED",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    weights = graph.tensor(op.inputs[1])
    if not weights.is_constant:
        _check_run_time_weights(graph, op)
        return
    if weights.dtype != "int8" or not weights.is_constant or weights.quantization is None:
        raise UnsupportedError("the weights must be constant int8 with quantisation parameters")
    if len(weights.shape) != 2:
        raise UnsupportedError(f"weights of shape {list(weights.shape)}; expected [units, features]")
    if any(zp != 0 for zp in weights.quantization.zero_point):
        raise UnsupportedError("the weights have a non-zero zero point")
    if op.options.weights_format != "DEFAULT":
        raise UnsupportedError(f"weights format {op.options.weights_format}")
    bias = _bias_index(op)
    if bias is not None and (graph.tensor(bias).dtype != "int32" or not graph.tensor(bias).is_constant):
        raise UnsupportedError("the bias must be constant int32")
    if graph.tensor(op.inputs[0]).num_elements % weights.shape[1]:
        raise UnsupportedError("the input size is not a multiple of the weights' feature count")
    clamp_range(op.options.activation, graph.tensor(op.outputs[0]))


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, weights, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if not weights.is_constant:
        return _lower_run_time_weights(ctx, graph, op)
    units, features = weights.shape
    input_offset = -zero_point(source)
    act_min, act_max = clamp_range(op.options.activation, result)
    weight_scales = weights.quantization.scale
    per_channel = len(weight_scales) > 1
    multipliers, shifts = zip(*(quantize_multiplier(scale(source) * s / scale(result)) for s in weight_scales))

    bias = np.zeros(units, np.int64)
    if _bias_index(op) is not None:
        bias += np.frombuffer(graph.tensor(_bias_index(op)).data, "<i4")
    bias += input_offset * np.frombuffer(weights.data, np.int8).reshape(units, features).astype(np.int64).sum(axis=1)
    if bias.min() < -(1 << 31) or bias.max() >= 1 << 31:
        raise UnsupportedError("the folded bias does not fit int32")

    prefix = f"sapool_l{op.index}"
    params = ctx.struct(f"{prefix}_params", "sapool_fc_params", {
        "batches": source.num_elements // features, "in_features": features, "out_features": units,
        "per_channel": int(per_channel), "output_offset": zero_point(result), "act_min": act_min, "act_max": act_max,
    })
    weight_array = ctx.tensor_array(op.inputs[1])
    rows = np.frombuffer(weights.data, np.int8).reshape(units, 1, features)
    ctx.arm_layout(weight_array, pair_interleaved(rows))  # kernels/arm/fully_connected.c reads unit pairs
    arguments = [
        params, ctx.tensor_pointer(op.inputs[0]), weight_array,
        ctx.array(f"{prefix}_bias", "int32_t", bias.astype(np.int32)),
        ctx.array(f"{prefix}_multiplier", "int32_t", multipliers),
        ctx.array(f"{prefix}_shift", "int32_t", shifts),
        ctx.tensor_pointer(op.outputs[0]),
    ]
    return LoweredOp((f"sapool_fully_connected_s8({', '.join(arguments)});",), ("reference/fully_connected.c",))


def _check_run_time_weights(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[1])
    weights = graph.tensor(op.inputs[1])
    if len(weights.shape) != 2 or graph.tensor(op.inputs[0]).num_elements % weights.shape[1]:
        raise UnsupportedError(f"run-time weights of shape {list(weights.shape)} do not fit the input")
    if _bias_index(op) is not None:
        raise UnsupportedError("a bias with run-time weights")
    if clamp_range(op.options.activation, graph.tensor(op.outputs[0])) != (-128, 127):
        raise UnsupportedError(f"a fused {op.options.activation} with run-time weights")


def _lower_run_time_weights(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    """out[b][u] = Σ_f (input[b][f] + input_offset)·(weights[u][f] + weight_offset), rounded once: one batch of
    sapool_batch_matmul_s8 with the weights read transposed."""
    source, weights, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    units, features = weights.shape
    multiplier, shift = quantize_multiplier(scale(source) * scale(weights) / scale(result))
    prefix = f"sapool_l{op.index}"
    params = ctx.struct(f"{prefix}_params", "sapool_batch_matmul_params", {
        "batches": 1, "rows": source.num_elements // features, "cols": units, "depth": features,
        "lhs_row_stride": features, "lhs_depth_stride": 1, "rhs_depth_stride": 1, "rhs_col_stride": features,
        "lhs_offset": -zero_point(source), "rhs_offset": -zero_point(weights), "output_offset": zero_point(result),
        "output_multiplier": multiplier, "output_shift": shift, "single_rounding": 1,
    })
    offsets = ctx.array(f"{prefix}_batches", "int32_t", [0])
    operands = ", ".join(ctx.tensor_pointer(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    return LoweredOp((f"sapool_batch_matmul_s8({params}, {offsets}, {offsets}, {operands});",),
                     ("reference/batch_matmul.c",))


def _bias_index(op: Op) -> int | None:
    return op.inputs[2] if len(op.inputs) > 2 else None
