"""TRANSPOSE → reference/transpose.c: the output written in order, read through permuted input strides.

Output dimensions whose input dimensions stay adjacent and in order are merged at compile time, so e.g. NHWC →
NCHW of a 5-D SAP window tensor runs as a 2-D or 3-D walk. The permutation must be constant.
"""

from __future__ import annotations

import numpy as np

from sapool.backends.c.emit import EmitContext, LoweredOp
from sapool.backends.c.strides import contiguous_strides, to_rank
from sapool.backends.c.tensors import require_int8
from sapool.errors import UnsupportedError
from sapool.ir.graph import Graph, Op
from sapool.ir.shapes import merge_dims

OPCODES = ("TRANSPOSE",)


def check(graph: Graph, op: Op) -> None:
    require_int8(graph, op.inputs[0], op.outputs[0])
    if not graph.tensor(op.inputs[1]).is_constant:
        raise UnsupportedError("the permutation is computed at run time")
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    perm = _permutation(graph, op)
    if sorted(perm) != list(range(len(source.shape))):
        raise UnsupportedError(f"{perm} is not a permutation of {len(source.shape)} dimensions")
    if tuple(source.shape[p] for p in perm) != result.shape:
        raise UnsupportedError(f"output shape {list(result.shape)} is not the permuted input shape")
    _walk(graph, op)


def scratch_bytes(graph: Graph, op: Op) -> int:
    return 0


def lower(ctx: EmitContext, graph: Graph, op: Op) -> LoweredOp:
    out_dims, in_strides = _walk(graph, op)
    params = ctx.struct(f"sapool_l{op.index}_params", "sapool_transpose_params",
                        {"out_dims": out_dims, "in_strides": in_strides})
    call = f"sapool_transpose_s8({params}, {ctx.tensor_pointer(op.inputs[0])}, {ctx.tensor_pointer(op.outputs[0])});"
    return LoweredOp((call,), ("reference/transpose.c",))


def _permutation(graph: Graph, op: Op) -> list[int]:
    tensor = graph.tensor(op.inputs[1])
    rank = len(graph.tensor(op.inputs[0]).shape)
    return [int(p) % rank for p in np.frombuffer(tensor.data, np.dtype(tensor.dtype))]


def _walk(graph: Graph, op: Op) -> tuple[list[int], list[int]]:
    """Output dims and the input stride of each, merged and extended to the kernel's 6 dimensions."""
    source_strides = contiguous_strides(graph.tensor(op.inputs[0]).shape)
    out_shape = graph.tensor(op.outputs[0]).shape
    dims, (strides,) = merge_dims(out_shape, [source_strides[p] for p in _permutation(graph, op)])
    return to_rank(dims), to_rank(strides, fill=0)
