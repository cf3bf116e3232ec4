"""RESHAPE, SQUEEZE, EXPAND_DIMS: views. NHWC bytes do not move, so no kernel runs.

The memory plan gives a view's output the slot of its input, so the layer is empty. Only where the plan keeps
them apart (for example a view of a graph input that must stay intact) does the layer copy the bytes.
"""

from __future__ import annotations

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.tensors import require_int8
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if source.nbytes != result.nbytes:
        raise UnsupportedError(f"{source.nbytes} bytes in, {result.nbytes} bytes out")


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, target = ctx.tensor_pointer(op.inputs[0]), ctx.tensor_pointer(op.outputs[0])
    if source == target:
        return LoweredOp((), comment="view: shares its input's bytes")
    return LoweredOp((f"memmove({target}, {source}, {graph.tensor(op.outputs[0]).nbytes});",),
                     comment="view planned apart from its input: copy")
