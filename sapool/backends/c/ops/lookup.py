"""LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1 → reference/lookup.c: a 256-entry table per op.

TFLite's int8 LOGISTIC and TANH (under the reference op resolver too) are LUTPopulate<int8_t> tables: for each
int8 value v, x = input_scale·(v − input_zero_point) in float32, f(x) in float32 (1/(1+expf(−x)), tanhf(x)),
rounded half away from zero after multiplying by 1/output_scale (float32), plus the output zero point, clamped.
This module evaluates the same steps in float32 (exp/tanh in double, rounded to float32 once: it matched TFLite's
tables on every entry of 300 random input scales). The standalone RELUs (TFLite's ReluX: requantisation, then a
clamp at the quantised bounds) are integer maps, tabulated exactly; ops/quantize.py tabulates int8 → int8
QUANTIZE (TFLite's Requantize) with this module's `requantize_table` and `lower_table`.
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import multiply_by_quantized_multiplier, quantize_multiplier, round_half_away
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1")
RELU_BOUNDS = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}  # real bounds; None: none

INT8_VALUES = np.arange(-128, 128)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    result = graph.tensor(op.outputs[0])
    if op.opcode == "LOGISTIC" and (scale(result) != 1 / 256 or zero_point(result) != -128):
        raise UnsupportedError("int8 LOGISTIC needs output scale 1/256 and zero point -128 (as TFLite requires)")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    values = TABLES[op.opcode](scale(source), zero_point(source), scale(result), zero_point(result))
    return lower_table(ctx, graph, op, values)


def lower_table(ctx: EmitContext, graph: Graph, op: Op, values: np.ndarray) -> LoweredOp:
    """The op as one `sapool_lookup_s8` call through `values` (its int8 result for v = −128..127)."""
    table = ctx.array(f"sapool_l{op.index}_table", "int8_t", indexed_by_byte(values))
    call = (f"sapool_lookup_s8({graph.tensor(op.outputs[0]).num_elements}, {table}, "
            f"{ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])});")
    return LoweredOp((call,), ("reference/lookup.c",))


def float_table(function):
    """LUTPopulate<int8_t> for a float function, step by step in float32."""
    def table(input_scale: float, input_zero: int, output_scale: float, output_zero: int) -> np.ndarray:
        inverse_scale = np.float32(1.0) / np.float32(output_scale)
        out = []
        for v in INT8_VALUES:
            x = np.float32(input_scale) * np.float32(v - input_zero)
            rescaled = round_half_away(float(np.float32(function(x)) * inverse_scale))
            out.append(min(127, max(-128, rescaled + output_zero)))
        return np.array(out)
    return table


def _sigmoid(x: np.float32) -> np.float32:
    with np.errstate(over="ignore"):  # expf overflows to inf beyond 88.7, and so does this cast
        exp = np.float32(math.exp(min(-float(x), 100.0)))
    return np.float32(1.0) / (np.float32(1.0) + exp)


def _tanh(x: np.float32) -> np.float32:
    return np.float32(math.tanh(float(x)))


def requantize_table(input_scale: float, input_zero: int, output_scale: float, output_zero: int,
                      low: int = -128, high: int = 127, *, float32_ratio: bool = False) -> np.ndarray:
    """TFLite's Requantize: (v − in_zp)·(in_scale/out_scale) by MultiplyByQuantizedMultiplier, + out_zp, clamped.

    The ratio is divided in double (Requantize casts both scales first), or in float32 with `float32_ratio`
    (ReluPrepare divides the two float scales, then widens): the multipliers differ in their last bits, which
    moves a value sitting on a rounding tie by 1 LSB (scales 0.0137713 / 0.0056165, input 52 above the zero point:
    127.4999992 in double, 127.5 in float32)."""
    ratio = float(np.float32(input_scale) / np.float32(output_scale)) if float32_ratio else input_scale / output_scale
    multiplier, shift = quantize_multiplier(ratio)
    return np.array([min(high, max(low, multiply_by_quantized_multiplier(int(v) - input_zero, multiplier, shift)
                                   + output_zero)) for v in INT8_VALUES])


def _relu_table(bounds):
    """TFLite's QuantizedReluX: requantise by the float32 scale ratio, then clamp at zero_point +
    roundf(bound / output_scale) (float32)."""
    def table(input_scale: float, input_zero: int, output_scale: float, output_zero: int) -> np.ndarray:
        def quantized(bound: float) -> int:
            return output_zero + round_half_away(float(np.float32(bound) / np.float32(output_scale)))
        low, high = bounds
        return requantize_table(input_scale, input_zero, output_scale, output_zero,
                                max(-128, quantized(low)), 127 if high is None else min(127, quantized(high)),
                                float32_ratio=True)
    return table


def indexed_by_byte(values: np.ndarray) -> np.ndarray:
    """Reorder a table listed for v = −128..127 so that entry (uint8_t)v holds v's value, as the kernel indexes."""
    return np.asarray(values)[(np.arange(256) + 128) % 256]


TABLES = {"LOGISTIC": float_table(_sigmoid), "TANH": float_table(_tanh),
          **{opcode: _relu_table(bounds) for opcode, bounds in RELU_BOUNDS.items()}}
