"""Small graph queries and one splice, shared by the graph passes (fold_pad, drop_moves, the fusions).

A fusion finds a chain of ops, replaces its last op by one fused op (which keeps that op's output tensor) and
drops the others; the tensors between them stay in `graph.tensors` (the fused op's options may name them, for
their quantisation) but no op reads or writes them any more, so the planner gives them no bytes.
"""

from __future__ import annotations

from dataclasses import replace

from sapool.ir.graph import Graph, Op


def only_reader(graph: Graph, readers: dict[int, list[int]], tensor: int) -> int | None:
    """The one op reading `tensor`, when exactly one does and the tensor is not a graph output."""
    found = readers.get(tensor, [])
    return found[0] if len(found) == 1 and tensor not in graph.outputs else None


def is_constant(graph: Graph, tensor: int | None) -> bool:
    return tensor is not None and graph.tensor(tensor).is_constant


def splice(graph: Graph, fused: dict[int, Op], dropped: set[int]) -> Graph:
    """`graph` with the op at each position in `fused` replaced and the positions in `dropped` removed, ops
    renumbered in execution order; `graph` itself when there is nothing to change."""
    if not fused and not dropped:
        return graph
    ops = [fused.get(position, op) for position, op in enumerate(graph.ops) if position not in dropped]
    return replace(graph, ops=[replace(op, index=n) for n, op in enumerate(ops)])
