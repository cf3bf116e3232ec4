"""MAXIMUM, MINIMUM → reference/maximum.c, with TFLite's broadcasting.

TFLite's int8 kernels (reference_ops::MaximumMinimumBroadcastSlow) compare the raw int8 values and store the
larger or smaller one: no rescaling, so the converter (and sapool's annotator) gives both operands and the result
one scale and zero point. The kernel does exactly that, which is bit-exact whatever the quantisation says.
"""

from __future__ import annotations

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.ops.elementwise import broadcast_shape, check_broadcast
from sapool.ir.graph import Graph, Op

OPCODES = ("MAXIMUM", "MINIMUM")


def check(graph: Graph, op: Op) -> None:
    check_broadcast(graph, op)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    shape = ctx.struct(f"sapool_l{op.index}_shape", "sapool_broadcast_shape", broadcast_shape(graph, op))
    pointers = ", ".join(ctx.tensor_pointer(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    return LoweredOp((f"sapool_{op.opcode.lower()}_s8({shape}, {pointers});",), ("reference/maximum.c",))
