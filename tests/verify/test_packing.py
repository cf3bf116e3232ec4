"""Packed rows (the generated C's I/O buffers) and outputs in LSB, on a model with a float interface."""

import numpy as np
import pytest

from sapool.errors import UnsupportedError
from sapool.ir.read import read_tflite_bytes
from sapool.verify.interpreters import run_model
from sapool.verify.packing import in_lsb, pack, unpack
from sapool.verify.samples import model_inputs
from tests.backends.c.interface_models import two_in_three_out
from tests.backends.c.single_op_models import build_model, run_reference


def test_rows_round_trip_through_pack_and_unpack_in_each_tensors_type():
    graph = read_tflite_bytes(two_in_three_out(), "multi")
    x = np.arange(2 * 144, dtype=np.float32).reshape(2, 6, 6, 4) / 7
    y = np.arange(2 * 144).astype(np.int8).reshape(2, 6, 6, 4)
    rows = pack([x, y])
    assert rows.shape == (2, 144 * 4 + 144) and rows.dtype == np.int8
    back = unpack(graph, graph.inputs, rows)
    assert back[0].dtype == np.float32 and np.array_equal(back[0], x) and np.array_equal(back[1], y)


def test_a_dequantized_output_in_lsb_is_its_int8_value_minus_the_zero_point():
    model = build_model("DEQUANTIZE", 4)
    graph = read_tflite_bytes(model.content, "dequantize")
    values = np.random.default_rng(0).integers(-128, 128, model.input_shapes[0], dtype=np.int8)
    [floats] = run_reference(model.content, [values])
    zero_point = graph.tensor(graph.inputs[0]).quantization.zero_point[0]
    lsb = in_lsb(graph, graph.outputs, [floats[np.newaxis]])
    assert np.array_equal(lsb, values.astype(np.int64).reshape(1, -1) - zero_point)


def test_a_model_without_a_batch_dimension_is_one_error_line_not_a_crash(tmp_path):
    """GELU[seed=1] takes a [5, 7] tensor: rows unpack to whole tensors and the interpreter refuses it by name."""
    model = build_model("GELU", 1)
    path = tmp_path / "gelu.tflite"
    path.write_bytes(model.content)
    graph = read_tflite_bytes(model.content, "gelu")
    inputs = model_inputs(path, graph, 3)
    [batch] = unpack(graph, graph.inputs, inputs.data)
    assert batch.shape == (3, 5, 7)
    with pytest.raises(UnsupportedError, match=r"shape \[5, 7\] has no batch dimension of 1"):
        run_model(path, [batch])
