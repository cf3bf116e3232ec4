"""FULLY_CONNECTED as RESHAPE → 1×1 CONV_2D → RESHAPE: LiteRT's reference kernels then compute what TFLite-Micro
computes, on the rewritten model and on the original, and the rest of the model is untouched."""

import numpy as np

from sapool.ir.read import read_tflite_bytes
from sapool.passes.fc_as_conv import lower_fully_connected
from sapool.verify.interpreters import run_model
from sapool.verify.samples import random_inputs
from tests.conftest import shared_model
from tests.ir.tflite_models import pack, tiny_float_model


def _outputs(content: bytes, inputs, engine: str) -> np.ndarray:
    return np.concatenate([output.reshape(len(output), -1) for output in run_model(content, inputs, engine).all_outputs],
                          axis=1)


def test_ad01_agrees_in_both_interpreters_once_its_fully_connected_ops_are_convolutions():
    original = shared_model("ad01_int8").read_bytes()
    lowered, count = lower_fully_connected(original)
    graph = read_tflite_bytes(lowered, "ad01")
    assert count == 10
    assert [op.opcode for op in graph.ops] == ["RESHAPE", "CONV_2D", "RESHAPE"] * 10
    inputs = random_inputs(read_tflite_bytes(original, "ad01"), 20, seed=1)
    reference_before, micro_before = (_outputs(original, inputs, engine) for engine in ("litert-ref", "tflm"))
    assert (reference_before != micro_before).any()  # the problem: LiteRT rounds FULLY_CONNECTED once, TFLM twice
    reference_after, micro_after = (_outputs(lowered, inputs, engine) for engine in ("litert-ref", "tflm"))
    np.testing.assert_array_equal(reference_after, micro_after)
    np.testing.assert_array_equal(micro_after, micro_before)  # TFLite-Micro users see no change


def test_weights_keep_their_bytes_and_per_unit_scales():
    original = shared_model("ad01_int8").read_bytes()
    before, after = read_tflite_bytes(original, "a"), read_tflite_bytes(lower_fully_connected(original)[0], "b")
    dense = [op for op in before.ops if op.opcode == "FULLY_CONNECTED"]
    convs = [op for op in after.ops if op.opcode == "CONV_2D"]
    for fc, conv in zip(dense, convs, strict=True):
        weights, filters = before.tensor(fc.inputs[1]), after.tensor(conv.inputs[1])
        assert filters.data == weights.data and filters.quantization == weights.quantization
        assert filters.shape == (weights.shape[0], 1, 1, weights.shape[1])
        assert conv.options.activation == fc.options.activation and conv.options.padding == "VALID"
        assert after.tensor(conv.inputs[2]).data == before.tensor(fc.inputs[2]).data


def test_a_float_fully_connected_is_left_alone():
    content = pack(tiny_float_model())
    assert lower_fully_connected(content) == (content, 0)


def test_firmware_rounds_as_the_chosen_interpreter(tmp_path):
    """`--rounding tflm` (the default): the firmware runs a user's FULLY_CONNECTED as 1×1 CONV_2D and gives
    TFLite-Micro's outputs; `--rounding tflite`: it keeps FULLY_CONNECTED and gives LiteRT's reference outputs."""
    from sapool.backends.c.host import run_host
    from tests.backends.c.conftest import compile_for_host

    content = shared_model("ad01_int8").read_bytes()
    graph = read_tflite_bytes(content, "ad01")
    inputs = random_inputs(graph, 8, seed=2)
    expected = {"tflm": _outputs(content, inputs, "tflm"), "tflite": _outputs(content, inputs, "litert-ref")}
    assert (expected["tflm"] != expected["tflite"]).any()
    for rounding in ("tflm", "tflite"):
        layout, _, executable = compile_for_host(graph, tmp_path / rounding, rounding=rounding)
        assert ("FULLY_CONNECTED" in {op.opcode for op in layout.graph.ops}) == (rounding == "tflite")
        firmware = run_host(executable, inputs[0].reshape(8, -1), expected[rounding].shape[1])
        np.testing.assert_array_equal(firmware, expected[rounding], err_msg=rounding)
