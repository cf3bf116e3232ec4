"""PAD → reference/pad.c: the output filled with the output zero point (TFLite's int8 pad value), then the
input's rows copied in. Paddings must be constant (they fix the output shape at compile time)."""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.strides import to_rank
from sapool.backends.c.tensors import require_int8, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("PAD",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if not graph.tensor(op.inputs[1]).is_constant:
        raise UnsupportedError("the paddings are computed at run time")
    paddings = _paddings(graph, op)
    if paddings.shape != (len(source.shape), 2) or (paddings < 0).any():
        raise UnsupportedError(f"paddings {paddings.tolist()} do not fit input shape {list(source.shape)}")
    expected = tuple(int(d + before + after) for d, (before, after) in zip(source.shape, paddings))
    if expected != result.shape:
        raise UnsupportedError(f"output shape {list(result.shape)} is not the padded shape {list(expected)}")
    to_rank(source.shape)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    params = ctx.struct(f"sapool_l{op.index}_params", "sapool_pad_params", {
        "in_dims": to_rank(source.shape), "out_dims": to_rank(result.shape),
        "before": to_rank(_paddings(graph, op)[:, 0], fill=0), "pad_value": zero_point(result),
    })
    call = f"sapool_pad_s8({params}, {ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])});"
    return LoweredOp((call,), ("reference/pad.c",))


def _paddings(graph: Graph, op: Op) -> np.ndarray:
    tensor = graph.tensor(op.inputs[1])
    return np.frombuffer(tensor.data, np.dtype(tensor.dtype)).reshape(tensor.shape).astype(np.int64)
