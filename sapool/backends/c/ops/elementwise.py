"""ADD, SUB, MUL → reference/elementwise.c, with TFLite's broadcasting.

Prepare-time work as TFLite's add.cc/sub.cc (int8: left_shift 20, both inputs rescaled to twice the larger input
scale, the result rescaled to the output scale) and mul.cc (one multiplier in1·in2/out, evaluated in float32 as
TFLite's C++ does), each decomposed by QuantizeMultiplier. The broadcast is resolved into per-operand strides.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import multiply_by_quantized_multiplier, quantize_multiplier
from sapool.backends.c.strides import broadcast_strides, to_rank
from sapool.backends.c.tensors import clamp_range, require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.ir.shapes import merge_dims

OPCODES = ("ADD", "SUB", "MUL")

LEFT_SHIFT = 20  # TFLite's int8 choice: headroom for the rescaled operands in int32


def check(graph: Graph, op: Op) -> None:
    check_broadcast(graph, op)
    first, second, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    clamp_range(_activation(op), result)
    if op.opcode != "MUL" and _add_multipliers(first, second, result)[2] > 1.0:
        raise UnsupportedError("output scale so small that TFLite's int8 kernel has no exact behaviour for it")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    struct_type, fields = kernel_fields(graph, op)
    params = ctx.struct(f"sapool_l{op.index}_params", struct_type, {"shape": broadcast_shape(graph, op), **fields})
    pointers = ", ".join(ctx.tensor_pointer(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    return LoweredOp((f"sapool_{op.opcode.lower()}_s8({params}, {pointers});",), ("reference/elementwise.c",))


def kernel_fields(graph: Graph, op: Op) -> tuple[str, dict]:
    """(C struct type, its arithmetic fields) for the op; the broadcast `shape` field is added by `lower`."""
    first, second, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    act_min, act_max = clamp_range(_activation(op), result)
    if op.opcode == "MUL":
        real = np.float32(np.float32(scale(first)) * np.float32(scale(second))) / np.float32(scale(result))
        multiplier, shift = quantize_multiplier(float(real))
        return "sapool_mul_params", {
            "input1_offset": -zero_point(first), "input2_offset": -zero_point(second),
            "output_offset": zero_point(result), "output_multiplier": multiplier, "output_shift": shift,
            "act_min": act_min, "act_max": act_max}
    (m1, s1), (m2, s2), (mo, so) = (quantize_multiplier(r) for r in _add_multipliers(first, second, result))
    return "sapool_add_params", {
        "left_shift": LEFT_SHIFT,
        "input1_offset": -zero_point(first), "input1_multiplier": m1, "input1_shift": s1,
        "input2_offset": -zero_point(second), "input2_multiplier": m2, "input2_shift": s2,
        "output_offset": zero_point(result), "output_multiplier": mo, "output_shift": so,
        "act_min": act_min, "act_max": act_max}


def evaluate(opcode: str, fields: dict, a: int, b: int) -> int:
    """Python twin of elementwise.c's per-element arithmetic (add_or_sub_row, mul_row) for one pair of int8
    values, with the fields of `kernel_fields`; fuse_lookup's tables are made with it (tests/backends/c/
    test_lookup_region.py proves it equal to the C kernel on every input of random regions)."""
    f = fields
    if opcode == "MUL":
        product = (a + f["input1_offset"]) * (b + f["input2_offset"])
        result = multiply_by_quantized_multiplier(product, f["output_multiplier"], f["output_shift"])
    else:
        x, y = (multiply_by_quantized_multiplier((value + f[f"input{n}_offset"]) * (1 << f["left_shift"]),
                                                 f[f"input{n}_multiplier"], f[f"input{n}_shift"])
                for n, value in ((1, a), (2, b)))
        result = multiply_by_quantized_multiplier(x + y if opcode == "ADD" else x - y, f["output_multiplier"],
                                                  f["output_shift"])
    return min(f["act_max"], max(f["act_min"], result + f["output_offset"]))


def check_broadcast(graph: Graph, op: Op) -> None:
    """Two int8 operands whose shapes broadcast to the int8 output's, within the kernels' 6 merged dimensions."""
    require_int8(graph, op.inputs[0], op.inputs[1], op.outputs[0])
    first, second, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    try:
        broadcast = np.broadcast_shapes(first.shape, second.shape)
    except ValueError:
        raise UnsupportedError(f"shapes {list(first.shape)} and {list(second.shape)} do not broadcast") from None
    if tuple(broadcast) != result.shape:
        raise UnsupportedError(f"output shape {list(result.shape)} is not the broadcast shape {list(broadcast)}")
    broadcast_shape(graph, op)


def _activation(op: Op) -> str:
    return getattr(op.options, "activation", "NONE")


def _add_multipliers(first, second, result) -> tuple[float, float, float]:
    """TFLite's real multipliers for int8 ADD/SUB: each input to twice the larger input scale, then to the output."""
    twice_max_scale = 2.0 * max(scale(first), scale(second))
    return (scale(first) / twice_max_scale, scale(second) / twice_max_scale,
            twice_max_scale / ((1 << LEFT_SHIFT) * scale(result)))


def broadcast_shape(graph: Graph, op: Op) -> dict:
    """The sapool_broadcast_shape initialiser: merged output dims and both operands' strides, at rank 6."""
    out_shape = graph.tensor(op.outputs[0]).shape
    dims, (a_strides, b_strides) = merge_dims(
        out_shape, *(broadcast_strides(out_shape, graph.tensor(i).shape) for i in op.inputs[:2]))
    return {"dims": to_rank(dims), "a_strides": to_rank(a_strides, fill=0), "b_strides": to_rank(b_strides, fill=0)}
