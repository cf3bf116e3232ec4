"""Builders for the single-op models of one-operand ops: LOGISTIC, TANH, QUANTIZE (int8 → int8 requantise, or
float32 → int8), DEQUANTIZE (int8 → float32), the standalone RELUs, and the activations third-party front ends
emit (LEAKY_RELU, HARD_SWISH, GELU with and without its tanh approximation) and LayerNorm's RSQRT. Registered in
single_op_models.BUILDERS; the conventions are explained there."""

from __future__ import annotations

from functools import partial

from ai_edge_litert import schema_py_generated as fb

from tests.backends.c.model_draw import Draw, options_table


def _unary(draw: Draw, opcode: str):
    """LOGISTIC, TANH, QUANTIZE (int8 → int8 requantise, or float32 → int8), DEQUANTIZE (int8 → float32) and the
    standalone RELUs."""
    shape = draw.shape(draw.int(1, 4), high=8)
    in_q = draw.activation_quant()
    out_type, out_q = fb.TensorType.INT8, {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(opcode)
    if opcode.startswith("RELU"):  # the converter gives a standalone RELU its own output range
        out_q = draw.output_quant("RELU6" if opcode == "RELU6" else "RELU")
        in_q = (out_q[0] * float(draw.log_uniform(0.5, 2.0)), in_q[1])
    elif opcode == "QUANTIZE":
        out_q = (in_q[0] * float(draw.log_uniform(0.5, 3.0)), draw.int(-100, 100))
        if draw.int(0, 1):  # the converter's float interface: float32 input, quantised once
            draw.note(input=tuple(shape), float_input=True, output_quant=(round(out_q[0], 5), out_q[1]))
            draw.float_step = out_q[0]
            return [draw.input(shape, None, fb.TensorType.FLOAT32)], draw.output(shape, out_q), None
    elif opcode == "DEQUANTIZE":
        out_type = fb.TensorType.FLOAT32
    draw.note(input=tuple(shape), input_quant=(round(in_q[0], 5), in_q[1]))
    return [draw.input(shape, in_q)], draw.output(shape, out_q, out_type), None


def _activation(draw: Draw, opcode: str):
    shape = draw.shape(draw.int(1, 4), high=8)
    in_q, out_q = draw.activation_quant(), draw.activation_quant()
    options = None
    if opcode == "LEAKY_RELU":
        alpha = float(draw.choice((0.01, 0.1, 0.2, draw.log_uniform(0.001, 0.9))))
        options = options_table(fb.LeakyReluOptionsT, alpha=alpha)
        draw.note(alpha=round(alpha, 4))
    elif opcode == "GELU":
        approximate = draw.choice((False, True))
        options = options_table(fb.GeluOptionsT, approximate=approximate)
        draw.note(approximate=approximate)
    draw.note(input=tuple(shape), input_quant=(round(in_q[0], 5), in_q[1]), output_quant=(round(out_q[0], 5), out_q[1]))
    return [draw.input(shape, in_q)], draw.output(shape, out_q), options


def _rsqrt(draw: Draw):
    """Input zero point −128: every int8 value is at or above it (TFLite's RSQRT refuses to run on values below the
    zero point, negative numbers), as a variance plus ε is."""
    shape = draw.shape(draw.int(1, 4), high=8)
    in_q, out_q = (draw.activation_quant()[0], -128), draw.activation_quant()
    draw.note(input=tuple(shape), input_quant=(round(in_q[0], 5), in_q[1]), output_quant=(round(out_q[0], 5), out_q[1]))
    return [draw.input(shape, in_q)], draw.output(shape, out_q), None


UNARY_BUILDERS = {
    "RSQRT": _rsqrt,
    **{opcode: partial(_unary, opcode=opcode)
       for opcode in ("LOGISTIC", "TANH", "QUANTIZE", "DEQUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1")},
    **{opcode: partial(_activation, opcode=opcode) for opcode in ("LEAKY_RELU", "HARD_SWISH", "GELU")},
}
