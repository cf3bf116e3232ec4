"""run_model / smallest_tflm_arena: same numbers as calling the interpreters in-process, clean errors otherwise."""

import numpy as np
import pytest
from ai_edge_litert.tools.flatbuffer_utils import convert_object_to_bytearray

from sapool.errors import BadInputError, DoesNotFitError, VerificationError
from sapool.ir.read import read_tflite, read_tflite_bytes
from sapool.verify.interpreters import run_model, smallest_tflm_arena
from tests.verify.int8_models import random_inputs, tiny_int8_bytes, tiny_int8_model, with_metadata

TINY_INPUT_SHAPE = (16, 16, 2)


def direct_litert_ref(model: bytes, inputs: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    source, sink = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    outputs = []
    for sample in inputs:
        interpreter.set_tensor(source, sample[np.newaxis])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(sink)[0])
    return np.stack(outputs)


def direct_tflm(model: bytes, inputs: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=1 << 22)
    outputs = []
    for sample in inputs:
        interpreter.set_input(sample[np.newaxis], 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0)[0])
    return np.stack(outputs)


@pytest.mark.parametrize("engine, direct", [("litert-ref", direct_litert_ref), ("tflm", direct_tflm)])
def test_outputs_equal_an_in_process_run_on_the_shared_models(mlperf_model, engine, direct):
    graph = read_tflite(mlperf_model)
    inputs = random_inputs(graph.tensor(graph.inputs[0]).shape[1:], 6)
    result = run_model(mlperf_model, inputs, engine)
    expected = direct(mlperf_model.read_bytes(), inputs)
    assert result.outputs.dtype == np.int8
    np.testing.assert_array_equal(result.outputs, expected)
    assert result.intermediates is None


@pytest.mark.parametrize("engine", ["litert-ref", "tflm"])
def test_intermediates_hold_every_activation_and_end_in_the_output(engine):
    model = tiny_int8_bytes()
    inputs = random_inputs(TINY_INPUT_SHAPE, 3)
    result = run_model(model, inputs, engine, intermediates=True)
    graph = read_tflite_bytes(model, "tiny")
    assert set(result.intermediates) == {t.index for t in graph.activations()} == {0, 3, 5, 8}
    np.testing.assert_array_equal(result.intermediates[0][:, 0], inputs)
    np.testing.assert_array_equal(result.intermediates[8][:, 0], result.outputs)
    assert result.intermediates[3].shape == (3, 1, 16, 16, 3)
    # the reshape's output is the conv output's bytes in another shape
    np.testing.assert_array_equal(result.intermediates[5].reshape(3, -1), result.intermediates[3].reshape(3, -1))


def test_tflm_intermediates_of_a_model_with_an_offline_plan():
    from sapool.backends.tflm.offline_plan import embed_offline_plan, tensor_offsets
    from sapool.memory.layout import plan_layout

    model = tiny_int8_bytes()
    graph = read_tflite_bytes(model, "tiny")
    planned = embed_offline_plan(model, tensor_offsets(graph, plan_layout(graph)))
    inputs = random_inputs(TINY_INPUT_SHAPE, 2)
    with_plan = run_model(planned, inputs, "tflm", intermediates=True)
    without = run_model(model, inputs, "tflm", intermediates=True)
    for index, values in without.intermediates.items():
        np.testing.assert_array_equal(with_plan.intermediates[index], values)


def test_both_engines_agree_on_the_tiny_model():
    inputs = random_inputs(TINY_INPUT_SHAPE, 20)
    reference = run_model(tiny_int8_bytes(), inputs, "litert-ref").outputs
    assert np.abs(reference.astype(int) - run_model(tiny_int8_bytes(), inputs, "tflm").outputs).max() <= 1
    assert len(np.unique(reference)) > 5  # not all saturated: the comparison means something


def test_an_interpreter_crash_is_bad_input():
    # TFLite-Micro reads an OfflineMemoryAllocation buffer without checking it exists: buffer 0 is empty -> SIGSEGV
    hostile = with_metadata(tiny_int8_model(), "OfflineMemoryAllocation", 0)
    with pytest.raises(BadInputError, match=r"TFLite-Micro crashed \(SIGSEGV\) on .*cannot handle"):
        run_model(hostile, random_inputs(TINY_INPUT_SHAPE, 1), "tflm")


def test_a_too_small_arena_does_not_fit_and_the_bisected_one_works():
    model = tiny_int8_bytes()
    smallest = smallest_tflm_arena(model)
    inputs = random_inputs(TINY_INPUT_SHAPE, 2)
    run_model(model, inputs, "tflm", arena_size=smallest)
    with pytest.raises(DoesNotFitError, match=f"{smallest - 1}-byte arena"):
        run_model(model, inputs, "tflm", arena_size=smallest - 1)


def test_a_model_tflm_refuses_is_bad_input():
    model = tiny_int8_model()
    conv = model.subgraphs[0].operators[0]  # (a CONV_2D without its filter is now refused by sapool's reader)
    model.subgraphs[0].tensors[conv.outputs[0]].quantization.scale[0] = 0.0  # Prepare fails on the zero scale
    with pytest.raises(BadInputError, match="TFLite-Micro refused the model"):
        run_model(bytes(convert_object_to_bytearray(model)), random_inputs(TINY_INPUT_SHAPE, 1), "tflm")


@pytest.mark.parametrize("inputs, message", [
    (np.zeros((2, 16, 16, 3), np.int8), r"inputs have shape \[2, 16, 16, 3\], expected \[N, 16, 16, 2\]"),
    (np.zeros((0, 16, 16, 2), np.int8), "with N >= 1"),
    (np.zeros((2, 16, 16, 2), np.float32), "inputs are float32, the model's input is int8"),
])
def test_wrong_inputs_are_refused_before_any_subprocess(inputs, message):
    with pytest.raises(BadInputError, match=message):
        run_model(tiny_int8_bytes(), inputs)


def test_corrupt_model_and_unknown_engine_are_bad_input(tmp_path):
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes(tiny_int8_bytes()[:100])
    with pytest.raises(BadInputError, match="cut.tflite"):
        run_model(truncated, random_inputs(TINY_INPUT_SHAPE, 1))
    with pytest.raises(BadInputError, match="unknown interpreter 'tflite'"):
        run_model(tiny_int8_bytes(), random_inputs(TINY_INPUT_SHAPE, 1), "tflite")


def test_a_run_over_its_time_limit_is_a_verification_error():
    with pytest.raises(VerificationError, match="did not finish model within 0.01 s"):
        run_model(tiny_int8_bytes(), random_inputs(TINY_INPUT_SHAPE, 1), timeout_s=0.01)
