"""The single-op model generator: every model loads and runs on TFLite's reference kernels with the shapes it
declares, reads back through sapool.ir.read as one op of the expected opcode, and spreads its outputs over the int8
range (a saturated output would make a bit-exact comparison vacuous)."""

import numpy as np
import pytest

from sapool.ir.read import read_tflite_bytes
from tests.backends.c.single_op_models import OPCODES, build_model, random_inputs, run_reference, seeded_models

MODELS_PER_OP = 12
MODELS = [model for opcode in OPCODES for model in seeded_models(opcode, MODELS_PER_OP)]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.label)
def test_model_runs_on_reference_kernels_and_reads_back(model):
    [output] = run_reference(model.content, random_inputs(model, seed=1))
    # TFLite recomputes every output shape in Prepare, so this checks the generator's shape arithmetic
    assert output.shape == model.output_shape
    graph = read_tflite_bytes(model.content, model.label)
    [op] = graph.ops
    assert op.opcode == model.opcode
    assert tuple(graph.tensor(i).shape for i in graph.inputs) == model.input_shapes
    assert graph.tensor(graph.outputs[0]).shape == model.output_shape
    assert graph.tensor(op.outputs[0]).dtype == ("float32" if model.opcode == "DEQUANTIZE" else "int8")


def test_same_seed_same_model_and_different_seeds_differ():
    assert build_model("CONV_2D", 3) == build_model("CONV_2D", 3)
    assert len({build_model("CONV_2D", seed).content for seed in range(5)}) == 5


@pytest.mark.parametrize("opcode", sorted(set(OPCODES) - {"DEQUANTIZE"}))
def test_outputs_mostly_avoid_saturation(opcode):
    outputs = [run_reference(m.content, random_inputs(m, seed=1))[0] for m in seeded_models(opcode, MODELS_PER_OP)]
    values = np.concatenate([output.ravel() for output in outputs])
    saturated = np.isin(values, (-128, 127)).mean()
    assert saturated < 0.5, f"{saturated:.0%} of {opcode} outputs are -128 or 127"
    assert np.median([len(np.unique(output)) for output in outputs]) >= 4
