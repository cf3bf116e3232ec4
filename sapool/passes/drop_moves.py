"""drop-noop-moves: data movement that ends where it started is removed, and its readers read the original.

- a RESHAPE, SQUEEZE or EXPAND_DIMS whose output shape is its input's, a TRANSPOSE with the identity permutation;
- a pair of them where the second undoes the first: TRANSPOSE by p then by q with q∘p the identity, or views
  that come back to the first input's shape; the first's output must be read by the second alone.
Exporters leave such pairs around layout changes (NCHW torch code, NHWC TFLite). A TRANSPOSE pair is a copy of the
tensor live next to it; view pairs cost no bytes (the planner aliases views) but hide the pattern from the fusions.
Removing them is bit-exact: these ops move int8 bytes without rescaling, so each must keep its input's
quantisation. An op whose output is a graph output is kept (the output must stay a tensor of its own).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sapool.ir.graph import VIEW_OPS, Graph, Op
from sapool.passes.graph_rewrite import is_constant, only_reader

MOVES = VIEW_OPS | {"TRANSPOSE"}


def drop_noop_moves(graph: Graph) -> Graph:
    """`graph` without no-op moves and undoing pairs (ops renumbered); `graph` itself when it has none."""
    while True:
        found = _first_noop(graph)
        if found is None:
            return graph
        positions, source, result = found
        graph = _bypass(graph, positions, source, result)


def _first_noop(graph: Graph) -> tuple[tuple[int, ...], int, int] | None:
    """(positions of the ops to drop, the tensor that stays, the tensor it replaces) of the first no-op found."""
    readers = graph.readers()
    for position, op in enumerate(graph.ops):
        if not _is_plain_move(graph, op) or op.outputs[0] in graph.outputs:
            continue
        source, result = op.inputs[0], op.outputs[0]
        if _undoes(graph, (op,)):
            return (position,), source, result
        second_at = only_reader(graph, readers, result)
        if second_at is None:
            continue
        second = graph.ops[second_at]
        if (_is_plain_move(graph, second) and second.inputs[0] == result and second.outputs[0] not in graph.outputs
                and _undoes(graph, (op, second))):
            return (position, second_at), source, second.outputs[0]
    return None


def _is_plain_move(graph: Graph, op: Op) -> bool:
    """A move of one tensor that keeps its quantisation and type (and, for TRANSPOSE, a constant permutation)."""
    if op.opcode not in MOVES or len(op.outputs) != 1 or op.inputs[0] is None:
        return False
    if op.opcode == "TRANSPOSE" and not is_constant(graph, op.inputs[1] if len(op.inputs) > 1 else None):
        return False
    source, result = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    return source.dtype == result.dtype and source.quantization == result.quantization


def _undoes(graph: Graph, ops: tuple[Op, ...]) -> bool:
    """The ops in sequence leave every element where it was: same shape, and the permutations compose to none."""
    start, end = graph.tensor(ops[0].inputs[0]), graph.tensor(ops[-1].outputs[0])
    if start.shape != end.shape:
        return False
    transposes = [op for op in ops if op.opcode == "TRANSPOSE"]
    if not transposes:
        return True
    if len(transposes) != len(ops):
        return False  # a view between transposes reorders what the permutations mean
    order = np.arange(len(start.shape))
    for op in transposes:
        permutation = _permutation(graph, op)
        if permutation is None or len(permutation) != len(order):
            return False
        order = order[permutation]
    return bool((order == np.arange(len(order))).all())


def _permutation(graph: Graph, op: Op) -> np.ndarray | None:
    tensor = graph.tensor(op.inputs[1])
    if tensor.dtype not in ("int32", "int64"):
        return None
    return np.frombuffer(tensor.data, np.dtype(tensor.dtype).newbyteorder("<")).astype(np.int64)


def _bypass(graph: Graph, positions: tuple[int, ...], source: int, result: int) -> Graph:
    """`graph` without the ops at `positions`, every read of `result` reading `source` instead."""
    ops = []
    for position, op in enumerate(graph.ops):
        if position in positions:
            continue
        inputs = tuple(source if tensor == result else tensor for tensor in op.inputs)
        ops.append(replace(op, index=len(ops), inputs=inputs))
    return replace(graph, ops=ops)
