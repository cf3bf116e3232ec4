"""fold-pad: a PAD before a convolution or an int8 max pool becomes the op's own padding. Oracle: TFLite's
reference kernels and TFLite-Micro on the model as written (with its PAD) against the host-built C of the folded
graph, on random inputs; and the planned peak, which loses the padded copy."""

import numpy as np
import pytest

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import UNBOUNDED, plan_layout
from sapool.passes.fold_pad import fold_pad
from sapool.verify.interpreters import run_model
from tests.backends.c.conftest import compile_for_host
from tests.backends.c.single_op_models import random_inputs, run_reference
from tests.passes.pad_models import build_pad_model

INPUTS = 8
CASES = [("CONV_2D", "zero point", seed) for seed in range(3)] + [
    ("DEPTHWISE_CONV_2D", "zero point", seed) for seed in range(3)] + [("MAX_POOL_2D", "-128", seed)
                                                                       for seed in range(3)]


@pytest.mark.parametrize("opcode, fill, seed", CASES, ids=lambda value: str(value))
def test_folded_graph_computes_what_both_interpreters_compute_with_the_pad(opcode, fill, seed, tmp_path):
    model = build_pad_model(opcode, seed, fill)
    graph = read_tflite_bytes(model.content, model.label)
    folded = fold_pad(graph)
    assert [op.opcode for op in folded.ops] == [opcode], model.label
    assert folded.ops[0].options.padding == "EXPLICIT" and folded.ops[0].inputs[0] == graph.inputs[0]
    inputs = np.stack([random_inputs(model, seed=n)[0][0] for n in range(INPUTS)])
    reference = np.stack([run_reference(model.content, [sample[None]])[0][0] for sample in inputs])
    micro = run_model(model.content, inputs, "tflm").outputs
    _, _, executable = compile_for_host(folded, tmp_path, prepared=False)
    firmware = run_host(executable, inputs.reshape(INPUTS, -1), reference[0].size).reshape(reference.shape)
    np.testing.assert_array_equal(micro, reference, err_msg=model.label)
    np.testing.assert_array_equal(firmware, reference, err_msg=model.label)


def test_the_padded_copy_leaves_the_plan():
    model = build_pad_model("DEPTHWISE_CONV_2D", seed=1)
    graph = read_tflite_bytes(model.content, model.label)
    padded = graph.ops[0].outputs[0]
    folded = fold_pad(graph)
    before = plan_layout(graph, (UNBOUNDED,), in_place=False).peak_arena_bytes
    after = plan_layout(folded, (UNBOUNDED,), in_place=False).peak_arena_bytes
    assert padded in {tensor.index for tensor in graph.activations()}
    assert padded not in {tensor.index for tensor in folded.activations()}
    assert after < before  # measured 304 B -> 208 B: input and output only


@pytest.mark.parametrize("opcode, fill", [("AVERAGE_POOL_2D", "zero point"), ("MAX_POOL_2D", "zero point"),
                                          ("CONV_2D", "other"), ("CONV_2D", "-128")])
def test_a_fill_the_op_would_not_pad_with_is_kept(opcode, fill):
    """Average pools divide by the in-image count; a max pool's zero-point border can win; a convolution pads
    with the zero point only."""
    model = build_pad_model(opcode, seed=0, fill=fill)
    graph = read_tflite_bytes(model.content, model.label)
    assert fold_pad(graph) is graph
