"""SOFTMAX on its rounding boundaries: TFLite's reference kernel is gemmlowp's fixed-point softmax, and a float
formulation (exp table, float sum) agrees with it on random rows but not where a probability sits within ~1e-6 of
a rounding boundary. Rows [a, b, a, b] over every int8 pair hit such boundaries (LIP's window softmax did, at
input scale 1/256); every output byte must equal BUILTIN_REF's."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from tests.backends.c.conftest import compile_for_host
from tests.backends.c.single_op_models import run_reference
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack

PAIRS = np.array([(a, b) for a in range(-128, 128) for b in range(-128, 128)], np.int8)


def _softmax_model(rows: int, input_scale: float, beta: float) -> bytes:
    builder = ModelBuilder()
    source = builder.tensor("input", [rows, 4], quantization=make_quantization(input_scale, -128))
    result = builder.tensor("output", [rows, 4], quantization=make_quantization(1 / 256, -128))
    options = fb.SoftmaxOptionsT()
    options.beta = beta
    builder.op(fb.BuiltinOperator.SOFTMAX, [source], [result], options)
    return pack(builder.build([source], [result]))


@pytest.mark.parametrize("input_scale, beta", [(1 / 256, 1.0), (1 / 16, 1.0), (0.0123, 0.7)])
def test_every_pair_pattern_is_bit_exact(tmp_path, input_scale, beta):
    content = _softmax_model(len(PAIRS), input_scale, beta)
    rows = np.concatenate([PAIRS, PAIRS], axis=1)  # [a, b, a, b]
    expected = run_reference(content, [rows])[0].reshape(1, -1)
    _, _, executable = compile_for_host(read_tflite_bytes(content, "softmax_pairs"), tmp_path)
    outputs = run_host(executable, rows.reshape(1, -1), rows.size)
    assert int((outputs != expected).sum()) == 0
