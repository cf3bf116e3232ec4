"""QUANTIZE and DEQUANTIZE: the float interface the TFLite converter puts around an int8 model, and requantisation.

- int8 → int8 QUANTIZE (TFLite's Requantize) is an integer map of one value: a 256-entry table (ops/lookup.py).
- int8 → float32 DEQUANTIZE: TFLite's reference kernel computes (float)(scale · (v − zero_point)) with the scale
  widened to double; that is a function of one int8 value too, so it is a 256-entry float table computed here the
  same way, and the kernel only looks values up (reference/lookup.c), with no float arithmetic.
- float32 → int8 QUANTIZE: TFLite's AffineQuantize, round(x / scale) + zero_point clamped to int8, with the
  division in float32 and rounding half away from zero (measured on BUILTIN_REF: a double division disagrees on
  45 % of values next to a rounding tie). reference/quantize.c divides in float32 like it. TFLite converts the
  rounded value to int32 without a range check (undefined beyond ±2^31: x86 gives INT32_MIN, so +∞ and 1e10
  become −128 there); the kernel saturates instead (+∞ → 127) and maps NaN to the zero point. Every finite input
  below 2^31 · scale in magnitude gives TFLite's byte.
- int16 → int8 and int8 → int16 QUANTIZE (an audio front end's int16 graph input and output around an int8 body):
  TFLite's Requantize, (v − input zero point) through MultiplyByQuantizedMultiplier with input/output scale (double,
  QuantizeMultiplier), + output zero point, clamped to the output type: reference/quantize.c.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import C_TYPES, EmitContext, LoweredOp
from sapool.backends.c.ops.lookup import INT8_VALUES, indexed_by_byte, lower_table, requantize_table
from sapool.backends.c.quant import quantize_multiplier
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("QUANTIZE", "DEQUANTIZE")
INT16_BOUNDARY = {("int16", "int8"), ("int8", "int16")}


def check(graph: Graph, op: Op) -> None:
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if op.opcode == "DEQUANTIZE":
        require_int8(graph, op.inputs[0])
        if result.dtype != "float32":
            raise UnsupportedError(f"DEQUANTIZE to {result.dtype}; the C backend dequantises int8 to float32")
        return
    if (source.dtype, result.dtype) in INT16_BOUNDARY:
        return
    require_int8(graph, op.outputs[0])
    if source.dtype == "float32":
        return
    if source.dtype != "int8":
        raise UnsupportedError(f"QUANTIZE from {source.dtype}; the C backend takes float32, int16 or int8 inputs")
    require_int8(graph, op.inputs[0])


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    source_pointer, result_pointer = ctx.tensor_pointer(op.inputs[0]), ctx.tensor_pointer(op.outputs[0])
    if op.opcode == "DEQUANTIZE":
        table = ctx.array(f"sapool_l{op.index}_table", "float", indexed_by_byte(dequantize_table(source)))
        call = f"sapool_lookup_s8_f32({result.num_elements}, {table}, {source_pointer}, (float *){result_pointer});"
        return LoweredOp((call,), ("reference/lookup.c",))
    if (source.dtype, result.dtype) in INT16_BOUNDARY:
        multiplier, shift = quantize_multiplier(scale(source) / scale(result))
        kernel = "sapool_requantize_s16_s8" if source.dtype == "int16" else "sapool_requantize_s8_s16"
        call = (f"{kernel}({result.num_elements}, {multiplier}, {shift}, {zero_point(source)}, {zero_point(result)}, "
                f"(const {C_TYPES[source.dtype]} *){source_pointer}, ({C_TYPES[result.dtype]} *){result_pointer});")
        return LoweredOp((call,), ("reference/quantize.c",))
    if source.dtype == "int8":
        return lower_table(ctx, graph, op, requantize_table(scale(source), zero_point(source), scale(result),
                                                            zero_point(result)))
    call = (f"sapool_quantize_f32_s8({result.num_elements}, {float(np.float32(scale(result))).hex()}f, "
            f"{zero_point(result)}, (const float *){source_pointer}, {result_pointer});")
    return LoweredOp((call,), ("reference/quantize.c",))


def dequantize_table(source) -> np.ndarray:
    """float32 of double(scale) · (v − zero_point) for v = −128..127, as reference_integer_ops::Dequantize."""
    return (np.float64(np.float32(scale(source))) * (INT8_VALUES - zero_point(source))).astype(np.float32)
