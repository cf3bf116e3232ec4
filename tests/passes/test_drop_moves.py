"""drop-noop-moves: a TRANSPOSE pair that undoes itself, or views that come back to their shape, are removed.
Oracle: both interpreters on the model as written against the host-built C of the rewritten graph."""

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import UNBOUNDED, plan_layout
from sapool.passes.drop_moves import drop_noop_moves
from sapool.verify.interpreters import run_model
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.backends.c.model_draw import options_table
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack

SHAPE = (1, 6, 5, 4)
QUANT = (0.05, 3)


def _moves_then_add(moves) -> bytes:
    """input → each (opcode, parameter) move in turn → ADD of a constant → output; parameters are TRANSPOSE
    permutations or RESHAPE shapes."""
    builder = ModelBuilder()
    quant = make_quantization(*QUANT)
    tensor = builder.tensor("input", list(SHAPE), quantization=quant)
    shape = list(SHAPE)
    for n, (opcode, parameter) in enumerate(moves):
        operand = builder.tensor(f"move{n}/parameter", [len(parameter)], fb.TensorType.INT32,
                                 data=np.asarray(parameter, np.int32))
        shape = [shape[axis] for axis in parameter] if opcode == "TRANSPOSE" else list(parameter)
        moved = builder.tensor(f"move{n}", shape, quantization=make_quantization(*QUANT))
        options = fb.TransposeOptionsT() if opcode == "TRANSPOSE" else options_table(fb.ReshapeOptionsT,
                                                                                      newShape=list(parameter))
        builder.op(getattr(fb.BuiltinOperator, opcode), [tensor, operand], [moved], options)
        tensor = moved
    constant = builder.tensor("constant", shape, quantization=make_quantization(0.02, -5),
                              data=np.random.default_rng(0).integers(-128, 128, shape, dtype=np.int8))
    output = builder.tensor("output", shape, quantization=make_quantization(0.07, 1))
    builder.op(fb.BuiltinOperator.ADD, [tensor, constant], [output], fb.AddOptionsT())
    return pack(builder.build([0], [output]))


UNDOING = {
    "transpose pair": [("TRANSPOSE", (0, 2, 3, 1)), ("TRANSPOSE", (0, 3, 1, 2))],
    "reshape pair": [("RESHAPE", (1, 30, 4)), ("RESHAPE", SHAPE)],
    "identity transpose": [("TRANSPOSE", (0, 1, 2, 3))],
}


@pytest.mark.parametrize("name", UNDOING)
def test_undoing_moves_are_removed_and_the_outputs_stay(name, tmp_path):
    content = _moves_then_add(UNDOING[name])
    graph = read_tflite_bytes(content, name)
    rewritten = drop_noop_moves(graph)
    assert [op.opcode for op in rewritten.ops] == ["ADD"] and rewritten.ops[0].inputs[0] == graph.inputs[0]
    inputs = np.random.default_rng(1).integers(-128, 128, (6, *SHAPE), np.int8)
    reference = reference_outputs(content, inputs)
    micro = run_model(content, inputs[:, 0], "tflm").outputs.reshape(len(inputs), -1)
    _, _, executable = compile_for_host(rewritten, tmp_path, prepared=False)
    np.testing.assert_array_equal(micro, reference)
    np.testing.assert_array_equal(run_host(executable, inputs.reshape(len(inputs), -1), reference.shape[1]), reference)


def test_a_transpose_pair_leaves_the_plan():
    graph = read_tflite_bytes(_moves_then_add(UNDOING["transpose pair"]), "pair")
    copies = {op.outputs[0] for op in graph.ops if op.opcode == "TRANSPOSE"}
    placed = plan_layout(drop_noop_moves(graph), (UNBOUNDED,), in_place=False)
    assert len(copies) == 2 and all(placed.buffer_of_tensor(tensor) is None for tensor in copies)


@pytest.mark.parametrize("moves", [[("TRANSPOSE", (0, 2, 3, 1)), ("TRANSPOSE", (0, 2, 3, 1))],
                                   [("TRANSPOSE", (0, 2, 1, 3)), ("RESHAPE", SHAPE)]])
def test_moves_that_do_not_come_back_are_kept(moves):
    graph = read_tflite_bytes(_moves_then_add(moves), "kept")
    assert drop_noop_moves(graph) is graph
