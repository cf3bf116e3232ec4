"""MAC counts: the MLPerf Tiny totals from DESIGN.md §7, and each counted op on a hand-made graph."""

import pytest

from sapool.ir.analysis import model_macs, op_macs
from sapool.ir.graph import Graph, Op, Tensor
from sapool.ir.options import BatchMatMulOptions, NoOptions
from sapool.ir.read import read_tflite
from tests.conftest import shared_model

DESIGN_MACS = {"vww_96_int8": 7_489_664, "pretrainedResnet_quant": 12_501_632, "kws_ref_model": 2_656_768,
               "ad01_int8": 264_192}


def test_mlperf_totals_match_design(mlperf_model):
    assert model_macs(read_tflite(mlperf_model)) == DESIGN_MACS[mlperf_model.stem]


def test_vww_first_layers():
    graph = read_tflite(shared_model("vww_96_int8"))
    # 3×3 stride-2 conv, 3 → 8 channels, 96×96 → 48×48: 48·48·8 outputs × 3·3·3
    assert op_macs(graph, graph.ops[0]) == 48 * 48 * 8 * 27
    # 3×3 depthwise on 48×48×8: 48·48·8 outputs × 3·3
    assert op_macs(graph, graph.ops[1]) == 48 * 48 * 8 * 9
    assert [op_macs(graph, op) for op in graph.ops if op.opcode in ("AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX")] == [0] * 3


def _graph(shapes: dict[int, tuple[int, ...]], op: Op) -> Graph:
    """A graph holding just `op`; tensor i has shape shapes[i] (weights need no data for counting)."""
    tensors = [Tensor(index=i, name=f"t{i}", shape=shapes[i], dtype="int8") for i in range(len(shapes))]
    return Graph(name="one_op", tensors=tensors, ops=[op], inputs=(0,), outputs=(op.outputs[0],))


@pytest.mark.parametrize("opcode, shapes, inputs, options, expected", [
    # grouped conv: 8 input channels in 2 groups → filter holds 4 input channels; 5×5×6 outputs × 3×3×4
    ("CONV_2D", {0: (1, 5, 5, 8), 1: (6, 3, 3, 4), 2: (6,), 3: (1, 5, 5, 6)}, (0, 1, 2), {}, 5 * 5 * 6 * 36),
    # depthwise with multiplier 2: 4×4×6 outputs × 3×3 (the filter's channel count is the output's)
    ("DEPTHWISE_CONV_2D", {0: (1, 4, 4, 3), 1: (1, 3, 3, 6), 2: (6,), 3: (1, 4, 4, 6)}, (0, 1, 2), {}, 4 * 4 * 6 * 9),
    # FC with an omitted bias: batch 2 × 10 units × 7 inputs
    ("FULLY_CONNECTED", {0: (2, 7), 1: (10, 7), 2: (2, 10)}, (0, 1, None), {}, 2 * 10 * 7),
    # transpose conv (output_shape, filter, input): each of 3×3×4 inputs scatters into 2×2×5 outputs
    ("TRANSPOSE_CONV", {0: (4,), 1: (5, 2, 2, 4), 2: (1, 3, 3, 4), 3: (1, 6, 6, 5)}, (0, 1, 2), {}, 36 * 20),
    # batch matmul [2,3,4] × [2,4,5] → [2,3,5]: 30 outputs × 4
    ("BATCH_MATMUL", {0: (2, 3, 4), 1: (2, 4, 5), 2: (2, 3, 5)}, (0, 1), {}, 30 * 4),
    # with adj_x the lhs is [2,4,3] and still contracts over 4
    ("BATCH_MATMUL", {0: (2, 4, 3), 1: (2, 4, 5), 2: (2, 3, 5)}, (0, 1), BatchMatMulOptions(adj_x=True), 30 * 4),
    ("ADD", {0: (1, 8, 8, 4), 1: (1, 8, 8, 4), 2: (1, 8, 8, 4)}, (0, 1), {}, 0),
    ("MAX_POOL_2D", {0: (1, 8, 8, 4), 1: (1, 4, 4, 4)}, (0,), {}, 0),
])
def test_op_macs(opcode, shapes, inputs, options, expected):
    options = options or NoOptions()
    op = Op(index=0, opcode=opcode, inputs=inputs, outputs=(len(shapes) - 1,), options=options)
    graph = _graph(shapes, op)
    assert op_macs(graph, op) == expected
    assert model_macs(graph) == expected
