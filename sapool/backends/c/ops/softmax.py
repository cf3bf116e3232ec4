"""SOFTMAX → reference/softmax.c: TFLite's fixed-point int8 softmax, integer only.

Prepare-time work as TFLite's SoftmaxPrepare does it for the reference kernel: PreprocessSoftmaxScaling with 5
integer bits (multiplier = min(beta · input_scale · 2^26, 2^31 − 1) in double, QuantizeMultiplier; its shift is
a left shift) and diff_min = −floor(31 · 2^26 / 2^shift), the most negative difference to the row maximum whose
exp still counts. The reference resolver runs this fixed-point path, not the float lookup table of TFLite's
optimised kernel: the two differ by 1 LSB where a probability sits within ~1e-6 of a rounding boundary (36 of
218k bytes on SAP/LIP window softmaxes; random inputs almost never show it).

An int8 row's differences to its maximum are 0..−255, so the fixed-point exp of each scaled difference is
tabulated here (int32[256], 0 below diff_min); the kernel keeps the per-row sum, reciprocal and rounding.
"""

from __future__ import annotations

import math

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.fixed_point import exp_on_negative_values
from sapool.backends.c.quant import quantize_multiplier, saturating_rounding_doubling_high_mul
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("SOFTMAX",)

SCALED_DIFF_INTEGER_BITS = 5  # TFLite's kScaledDiffIntegerBits: exp's input in Q5.26


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    result = graph.tensor(op.outputs[0])
    if zero_point(result) != -128 or abs(scale(result) - 1 / 256) > 0.001 / 256:
        raise UnsupportedError("int8 softmax needs output scale 1/256 and zero point -128")
    if _input_scaling(graph, op)[1] < 0:
        raise UnsupportedError("beta · input scale is too small for TFLite's fixed-point softmax")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source = graph.tensor(op.inputs[0])
    params, table = emit_params(ctx, graph, op, rows=source.num_elements // source.shape[-1])
    pointers = f"{ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])}"
    return LoweredOp((f"sapool_softmax_s8({params}, {table}, {pointers});",), ("reference/softmax.c",))


def emit_params(ctx: EmitContext, graph: Graph, op: Op, rows: int) -> tuple[str, str]:
    """The op's parameter struct for `rows` rows and its exp table (names for the C call); a fused kernel that
    softmaxes one row at a time asks for rows=1."""
    prefix = f"sapool_l{op.index}"
    table = ctx.array(f"{prefix}_exp", "int32_t", exp_table(*_input_scaling(graph, op)))
    params = ctx.struct(f"{prefix}_params", "sapool_softmax_params",
                        {"rows": rows, "depth": graph.tensor(op.inputs[0]).shape[-1]})
    return params, table


def exp_table(multiplier: int, left_shift: int) -> list[int]:
    """table[d] = exp of the scaled difference −d in Q0.31, as TFLite's kernel computes it; 0 below diff_min."""
    radius = math.floor(((1 << SCALED_DIFF_INTEGER_BITS) - 1) * (1 << (31 - SCALED_DIFF_INTEGER_BITS))
                        / (1 << left_shift))
    return [exp_on_negative_values(saturating_rounding_doubling_high_mul(-d * (1 << left_shift), multiplier))
            if -d >= -radius else 0 for d in range(256)]


def _input_scaling(graph: Graph, op: Op) -> tuple[int, int]:
    """PreprocessSoftmaxScaling: (multiplier, left shift) of beta · input_scale in Q5.26."""
    real = op.options.beta * scale(graph.tensor(op.inputs[0])) * (1 << (31 - SCALED_DIFF_INTEGER_BITS))
    return quantize_multiplier(min(real, float((1 << 31) - 1)))
