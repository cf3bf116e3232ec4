"""Float interfaces (QUANTIZE from float32 in, DEQUANTIZE to float32 out) and several inputs and outputs, through
the C backend's packed input and output rows, bit for bit against TFLite's reference kernels (float outputs
compared by their bytes), on the ASan/UBSan host build."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite, read_tflite_bytes
from tests.backends.c.conftest import compile_for_host
from tests.backends.c.interface_models import float_interface_cnn, random_model_inputs, two_in_three_out
from tests.conftest import shared_model

SAMPLES = 6


def _packed(arrays) -> np.ndarray:
    return np.frombuffer(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays), np.int8)


def _reference(content: bytes, seeds, extra_outputs=()) -> tuple[np.ndarray, np.ndarray]:
    """(packed inputs, packed outputs) per seed from BUILTIN_REF: the graph outputs, then `extra_outputs` (tensor
    indices read from the preserved intermediates)."""
    interpreter = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                              experimental_preserve_all_tensors=bool(extra_outputs))
    interpreter.allocate_tensors()
    inputs, outputs = [], []
    for seed in seeds:
        arrays = random_model_inputs(interpreter.get_input_details(), seed)
        for detail, array in zip(interpreter.get_input_details(), arrays, strict=True):
            interpreter.set_tensor(detail["index"], array)
        interpreter.invoke()
        indices = [d["index"] for d in interpreter.get_output_details()] + list(extra_outputs)
        inputs.append(_packed(arrays))
        outputs.append(_packed([interpreter.get_tensor(i) for i in indices]))
    return np.stack(inputs), np.stack(outputs)


@pytest.mark.parametrize("build", [float_interface_cnn, two_in_three_out])
def test_float_interface_and_several_inputs_and_outputs_are_bit_exact(build, tmp_path):
    content = build()
    inputs, expected = _reference(content, range(SAMPLES))
    _, files, executable = compile_for_host(read_tflite_bytes(content, build.__name__), tmp_path)
    assert np.array_equal(run_host(executable, inputs, expected.shape[1]), expected)
    header = files["model/model.h"]
    if build is two_in_three_out:
        assert "#define SAPOOL_MODEL_NUM_INPUTS   2" in header and "#define SAPOOL_MODEL_NUM_OUTPUTS  3" in header
        # the float32 x, then int8 y; outputs int8 sum, float32 gate, int8 pooled y: mixed types, so void pointers
        assert "#define SAPOOL_MODEL_INPUT0_BYTES       576" in header
        assert "#define SAPOOL_MODEL_INPUT1_DIMS        { 1, 6, 6, 4 }" in header
        assert "#define SAPOOL_MODEL_OUTPUT1_TYPE        float" in header
        assert "SAPOOL_MODEL_OUTPUT1_SCALE" not in header and "SAPOOL_MODEL_OUTPUT0_SCALE" in header
        assert "void *sapool_model_input(int i);" in header and "const void *sapool_model_output(int i);" in header
        assert "#define SAPOOL_INPUT_BYTES  720" in header


def test_float_outputs_are_the_interpreters_floats_not_close_ones(tmp_path):
    """A DEQUANTIZE of identical int8 values gives identical floats: compared as float32 arrays too."""
    content = float_interface_cnn(seed=3)
    inputs, expected = _reference(content, range(2))
    _, _, executable = compile_for_host(read_tflite_bytes(content, "cnn"), tmp_path)
    got = run_host(executable, inputs, expected.shape[1]).view(np.float32)
    assert got.dtype == np.float32 and np.array_equal(got, expected.view(np.float32))
    assert len(np.unique(got)) > 8  # real values, not a constant


def test_an_intermediate_tensor_as_a_second_output_of_kws(tmp_path):
    """kws with its first DEPTHWISE_CONV_2D's result as a second graph output: both bit-exact."""
    path = shared_model("kws_ref_model")
    graph = read_tflite(path)
    extra = graph.ops[1].outputs[0]
    inputs, expected = _reference(path.read_bytes(), range(3), extra_outputs=(extra,))
    two_outputs = dataclasses.replace(graph, outputs=(*graph.outputs, extra))
    _, _, executable = compile_for_host(two_outputs, tmp_path)
    assert np.array_equal(run_host(executable, inputs, expected.shape[1]), expected)
