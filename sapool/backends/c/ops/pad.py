"""PAD, PADV2 → reference/pad.c: the output filled with the pad value, then the input's rows copied in.

TFLite's int8 pad value is the output zero point for PAD and the constant third operand for PADV2 (which the
converter emits for max pooling's −128 border; its quantisation must equal the output's). Paddings and the pad value
must be constant: they fix the output shape and the fill at compile time."""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.strides import to_rank
from sapool.backends.c.tensors import require_int8, zero_point
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op

OPCODES = ("PAD", "PADV2")


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if not graph.tensor(op.inputs[1]).is_constant:
        raise UnsupportedError("the paddings are computed at run time")
    if _has_pad_operand(op):
        value = graph.tensor(op.inputs[2])
        if not value.is_constant or value.dtype != "int8" or value.num_elements != 1:
            raise UnsupportedError("the pad value must be one constant int8")
        if value.quantization != result.quantization:
            raise UnsupportedError("the pad value is quantised differently from the output")
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
        "before": to_rank(_paddings(graph, op)[:, 0], fill=0), "pad_value": _pad_value(graph, op),
    })
    call = f"sapool_pad_s8({params}, {ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])});"
    return LoweredOp((call,), ("reference/pad.c",))


def _has_pad_operand(op: Op) -> bool:
    return len(op.inputs) > 2 and op.inputs[2] is not None


def _pad_value(graph: Graph, op: Op) -> int:
    if _has_pad_operand(op):
        return int(np.frombuffer(graph.tensor(op.inputs[2]).data, np.int8)[0])
    return zero_point(graph.tensor(op.outputs[0]))


def _paddings(graph: Graph, op: Op) -> np.ndarray:
    tensor = graph.tensor(op.inputs[1])
    return np.frombuffer(tensor.data, np.dtype(tensor.dtype)).reshape(tensor.shape).astype(np.int64)
