"""ADD → reference/add.c (same-shape int8 operands).

Prepare-time work as in TFLite's add.cc for int8: left_shift 20, both inputs rescaled to twice the larger input
scale, the sum rescaled to the output scale, each ratio decomposed by QuantizeMultiplier.
"""

from __future__ import annotations

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.quant import quantize_multiplier
from sapool.backends.c.tensors import clamp_range, require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("ADD",)

LEFT_SHIFT = 20  # TFLite's int8 choice: headroom for the rescaled operands in int32


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, *op.inputs, op.outputs[0])
    shapes = {graph.tensor(i).shape for i in (*op.inputs, op.outputs[0])}
    if len(shapes) != 1:
        raise UnsupportedError(f"broadcasting ({' + '.join(str(list(graph.tensor(i).shape)) for i in op.inputs)})")
    clamp_range(op.options.activation, graph.tensor(op.outputs[0]))


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    first, second, result = (graph.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    twice_max_scale = 2.0 * max(scale(first), scale(second))
    input1_multiplier, input1_shift = quantize_multiplier(scale(first) / twice_max_scale)
    input2_multiplier, input2_shift = quantize_multiplier(scale(second) / twice_max_scale)
    output_multiplier, output_shift = quantize_multiplier(twice_max_scale / ((1 << LEFT_SHIFT) * scale(result)))
    act_min, act_max = clamp_range(op.options.activation, result)
    params = ctx.struct(f"sapool_l{op.index}_params", "sapool_add_params", {
        "size": result.num_elements, "left_shift": LEFT_SHIFT,
        "input1_offset": -zero_point(first), "input1_multiplier": input1_multiplier, "input1_shift": input1_shift,
        "input2_offset": -zero_point(second), "input2_multiplier": input2_multiplier, "input2_shift": input2_shift,
        "output_offset": zero_point(result), "output_multiplier": output_multiplier, "output_shift": output_shift,
        "act_min": act_min, "act_max": act_max,
    })
    pointers = ", ".join(ctx.tensor_pointer(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    return LoweredOp((f"sapool_add_s8({params}, {pointers});",), ("reference/add.c",))
