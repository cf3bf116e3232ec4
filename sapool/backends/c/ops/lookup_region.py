"""FUSED_LOOKUP (passes/fuse_lookup.py) → reference/lookup.c: a region of int8 elementwise ops as one table.

The table is the region evaluated on all 256 int8 inputs, op by op, with exactly the arithmetic of the kernels the
ops would otherwise run: LOGISTIC/TANH/RELU* and int8 QUANTIZE through the tables their own lowerings ship (their
kernel is that table), ADD/SUB/MUL through `elementwise.evaluate`, the Python twin of elementwise.c's per-element
integer arithmetic, on the constants `elementwise.kernel_fields` gives the C struct. Integer arithmetic has one answer,
so the table is bit-exact by construction; tests/backends/c/test_lookup_region.py checks it against the unfused
kernels (host build) on every input of random regions, and whole SAP models against TFLite's reference kernels.
An exact Python model was chosen over running the C kernels on the host at generation time: `sapool plan` and
code generation then need no host compiler, and the model is the documented twin the tests hold to the C.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.ops import elementwise, lookup
from sapool.backends.c.tensors import require_int8, scale, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.passes.fuse_lookup import FUSED_LOOKUP, UNARY_OPCODES

OPCODES = (FUSED_LOOKUP,)
UNARY_TABLES = {**lookup.TABLES, "QUANTIZE": lookup.requantize_table}  # the tables those ops' kernels look up


def check(graph: Graph, op: Op) -> None:
    from sapool.backends.c.registry import lowering_for  # the registry imports this module

    for part in op.options.region:
        lowering_for(part.opcode).check(graph, part)
        for tensor in part.inputs:
            if tensor is not None and graph.tensor(tensor).is_constant:
                require_int8(graph, tensor)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    first, last = op.options.region[0].index, op.options.region[-1].index
    return replace(lookup.lower_table(ctx, graph, op, region_table(graph, op)),
                   comment=f"{len(op.options.region)} elementwise ops ({first}-{last}) as one 256-entry table")


def region_table(graph: Graph, op: Op) -> np.ndarray:
    """The region's output for each int8 input v = −128..127, computed as the unfused kernels compute it."""
    values = {op.inputs[0]: lookup.INT8_VALUES}
    for part in op.options.region:
        values[part.outputs[0]] = _evaluate(graph, part, values)
    return values[op.outputs[0]]


def _evaluate(graph: Graph, part: Op, values: dict[int, np.ndarray]) -> np.ndarray:
    operands = [values[t] if t in values else np.full(256, _constant_value(graph, t)) for t in part.inputs]
    if part.opcode in UNARY_OPCODES:
        source, result = graph.tensor(part.inputs[0]), graph.tensor(part.outputs[0])
        table = UNARY_TABLES[part.opcode](scale(source), zero_point(source), scale(result), zero_point(result))
        return np.asarray(table)[operands[0] + 128]
    _, fields = elementwise.kernel_fields(graph, part)
    return np.array([elementwise.evaluate(part.opcode, fields, int(a), int(b)) for a, b in zip(*operands)])


def _constant_value(graph: Graph, tensor: int) -> int:
    values = np.frombuffer(graph.tensor(tensor).data, np.int8)
    if values.size == 0 or (values != values[0]).any():
        raise UnsupportedError(f"constant tensor {tensor} is not one value repeated")
    return int(values[0])
