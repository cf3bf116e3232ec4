"""int8 .tflite files pass through untouched, float-interface ones too; float ones are refused with what to do."""

import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.errors import UnsupportedError
from sapool.frontends import load_model
from tests.conftest import shared_model
from tests.frontends.bad_inputs import one_line
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack, tiny_float_model


def test_an_int8_tflite_passes_through():
    path = shared_model("vww_96_int8")
    loaded = load_model(path)
    assert loaded.kind == "tflite-int8" and loaded.module is None
    assert loaded.tflite == path.read_bytes() and loaded.input_shape == (1, 96, 96, 3)
    assert loaded.graph.tensor(loaded.graph.inputs[0]).dtype == "int8"


def test_a_float_tflite_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "float.tflite"
    path.write_bytes(pack(tiny_float_model()))
    with pytest.raises(UnsupportedError, match=r"float \.tflite \(\d+ float tensors, e.g. '[\w/]+' of op 0 "
                                               r"\(CONV_2D\)\): "
                                               r"compile it from its source model \(\.pt/\.onnx\) "
                                               "or quantise it to int8 first") as err:
        load_model(path)
    one_line(err)


def test_an_int8_tflite_with_a_float_interface_passes_through(tmp_path):
    """QUANTIZE (float → int8) → int8 RELU → DEQUANTIZE: int8 inside, the converter's default float interface."""
    builder = ModelBuilder()
    q = make_quantization(0.05, -3)
    x = builder.tensor("input", [1, 4], fb.TensorType.FLOAT32)
    a = builder.tensor("quantized", [1, 4], quantization=q)
    b = builder.tensor("relu", [1, 4], quantization=q)
    y = builder.tensor("output", [1, 4], fb.TensorType.FLOAT32)
    builder.op(fb.BuiltinOperator.QUANTIZE, [x], [a])
    builder.op(fb.BuiltinOperator.RELU, [a], [b])
    builder.op(fb.BuiltinOperator.DEQUANTIZE, [b], [y])
    path = tmp_path / "float_io.tflite"
    path.write_bytes(pack(builder.build([x], [y])))
    loaded = load_model(path)
    assert loaded.kind == "tflite-int8" and loaded.input_shape == (1, 4)
    assert [loaded.graph.tensor(i).dtype for i in (*loaded.graph.inputs, *loaded.graph.outputs)] == ["float32"] * 2
