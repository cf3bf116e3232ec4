"""Multiply-accumulate counts per op, the work measure the per-layer report and the benchmarks divide by.

Only ops built on dot products count; elementwise, pooling, softmax and data-movement ops are 0 MACs, following
the usual convention for MLPerf Tiny figures (DESIGN.md §7 gives the totals this reproduces). Shapes are TFLite's:
activations NHWC, CONV_2D filters [out_c, kh, kw, in_c / groups], DEPTHWISE_CONV_2D filters [1, kh, kw, out_c],
FULLY_CONNECTED weights [units, in_features], TRANSPOSE_CONV filters [out_c, kh, kw, in_c].
"""

from __future__ import annotations

from collections.abc import Callable

from sapool.ir.graph import Graph, Op


def _conv_2d(graph: Graph, op: Op) -> int:
    """Each output element sums kh × kw × (input channels of its group)."""
    _, kh, kw, in_per_group = graph.tensor(op.inputs[1]).shape
    return graph.tensor(op.outputs[0]).num_elements * kh * kw * in_per_group


def _depthwise_conv_2d(graph: Graph, op: Op) -> int:
    """Each output element sums one kh × kw window of one input channel."""
    _, kh, kw, _ = graph.tensor(op.inputs[1]).shape
    return graph.tensor(op.outputs[0]).num_elements * kh * kw


def _fully_connected(graph: Graph, op: Op) -> int:
    in_features = graph.tensor(op.inputs[1]).shape[-1]
    return graph.tensor(op.outputs[0]).num_elements * in_features


def _transpose_conv(graph: Graph, op: Op) -> int:
    """Inputs are (output_shape, filter, input[, bias]); each input element scatters into kh × kw × out_c outputs."""
    out_channels, kh, kw, _ = graph.tensor(op.inputs[1]).shape
    return graph.tensor(op.inputs[2]).num_elements * kh * kw * out_channels


def _batch_matmul(graph: Graph, op: Op) -> int:
    """Each output element is a dot product over the lhs contraction axis (the last, or the one before with adj_x)."""
    lhs_shape = graph.tensor(op.inputs[0]).shape
    contraction = lhs_shape[-2] if getattr(op.options, "adj_x", False) else lhs_shape[-1]
    return graph.tensor(op.outputs[0]).num_elements * contraction


MAC_COUNTERS: dict[str, Callable[[Graph, Op], int]] = {
    "CONV_2D": _conv_2d,
    "DEPTHWISE_CONV_2D": _depthwise_conv_2d,
    "FULLY_CONNECTED": _fully_connected,
    "TRANSPOSE_CONV": _transpose_conv,
    "BATCH_MATMUL": _batch_matmul,
}


def op_macs(graph: Graph, op: Op) -> int:
    """Multiply-accumulates `op` performs in one inference; 0 for ops that are not dot-product based."""
    counter = MAC_COUNTERS.get(op.opcode)
    return counter(graph, op) if counter else 0


def model_macs(graph: Graph) -> int:
    """Total multiply-accumulates of one inference."""
    return sum(op_macs(graph, op) for op in graph.ops)
