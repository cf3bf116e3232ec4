"""SOFTMAX → reference/softmax.c.

TFLite's int8 softmax (also under the reference op resolver) fills a 256-entry float table with
expf(-input_scale · beta · d) for d = 0..255 (the product in float32) and normalises in float. The table is
computed here (exp in double, rounded once to float32) and stored in flash, so the kernel needs no libm.
"""

from __future__ import annotations

import math

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("SOFTMAX",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    result = graph.tensor(op.outputs[0])
    if zero_point(result) != -128 or abs(scale(result) - 1 / 256) > 0.001 / 256:
        raise UnsupportedError("int8 softmax needs output scale 1/256 and zero point -128")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def exp_table(input_scale: float, beta: float) -> np.ndarray:
    """table[255 - d] = exp(-input_scale·beta·d) in float32, TFLite's PopulateSoftmaxLookupTable."""
    step = np.float32(-np.float32(input_scale) * np.float32(beta))
    values = [np.float32(math.exp(float(step * np.float32(d)))) for d in range(256)]
    return np.array(values[::-1], dtype=np.float32)


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    depth = source.shape[-1]
    prefix = f"sapool_l{op.index}"
    table = ctx.array(f"{prefix}_exp", "float", exp_table(scale(source), op.options.beta))
    params = ctx.struct(f"{prefix}_params", "sapool_softmax_params", {
        "rows": source.num_elements // depth, "depth": depth,
        "output_scale": float(np.float32(scale(result))), "output_offset": zero_point(result),
    })
    pointers = f"{ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])}"
    call = f"sapool_softmax_s8({params}, {table}, {pointers});"
    return LoweredOp((call,), ("reference/softmax.c",))
