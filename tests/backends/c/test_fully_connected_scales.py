"""FULLY_CONNECTED's per-tensor multiplier, on a model built to tell two candidate formulas apart.

input_scale · weight_scale can be multiplied in double or in float32 (then widened); the two multipliers differ
in their last bits, which random models almost never notice. This model does: each unit's bias puts its
accumulator right where the two multipliers round to different int8 outputs, so only one formula can be
bit-exact with the reference kernels (measured: the double product).
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c.host import run_host
from sapool.backends.c.quant import float32_product, quantize_multiplier
from sapool.ir.read import read_tflite_bytes
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.ir.tflite_models import ModelBuilder, pack

UNITS = 16
FIRST = 4


def _quant(scale: float) -> fb.QuantizationParametersT:
    params = fb.QuantizationParametersT()
    params.scale, params.zeroPoint = [scale], [0]
    return params


def _requantize(acc: int, multiplier: int, shift: int) -> int:
    total = 31 - shift
    return (acc * multiplier + (1 << (total - 1))) >> total


def _scales_with_differing_multipliers() -> tuple[float, float, float]:
    rng = np.random.default_rng(11)
    while True:
        input_scale, weight_scale = (float(np.float32(v)) for v in rng.uniform(1e-4, 1e-2, 2))
        output_scale = float(np.float32(input_scale * weight_scale * rng.uniform(6e7, 9e7)))
        single = quantize_multiplier(float32_product(input_scale, weight_scale) / output_scale)
        double = quantize_multiplier(input_scale * weight_scale / output_scale)
        if single[1] == double[1] and abs(single[0] - double[0]) > 40:
            return input_scale, weight_scale, output_scale


def _boundary_biases(low: tuple[int, int], high: tuple[int, int]) -> list[int]:
    """Accumulators that the smaller multiplier rounds to k - 1 and the larger to k, for k = FIRST..FIRST+UNITS-1
    (large enough that the multipliers' difference times the accumulator spans a rounding step)."""
    (m_low, shift), (m_high, _) = low, high
    total = 31 - shift
    biases = []
    for k in range(FIRST, FIRST + UNITS):
        bias = -(-(k * (1 << total) - (1 << (total - 1))) // m_high)
        assert _requantize(bias, m_high, shift) == k and _requantize(bias, m_low, shift) == k - 1
        biases.append(bias)
    return biases


def test_per_tensor_multiplier_matches_the_reference_where_the_formulas_disagree(tmp_path):
    input_scale, weight_scale, output_scale = _scales_with_differing_multipliers()
    candidates = sorted([quantize_multiplier(float32_product(input_scale, weight_scale) / output_scale),
                         quantize_multiplier(input_scale * weight_scale / output_scale)])
    builder = ModelBuilder()
    source = builder.tensor("input", [1, 1], quantization=_quant(input_scale))
    weights = builder.tensor("weights", [UNITS, 1], quantization=_quant(weight_scale),
                             data=np.ones((UNITS, 1), np.int8))
    bias = builder.tensor("bias", [UNITS], fb.TensorType.INT32, _quant(input_scale * weight_scale),
                          np.array(_boundary_biases(*candidates), np.int32))
    result = builder.tensor("output", [1, UNITS], quantization=_quant(output_scale))
    builder.op(fb.BuiltinOperator.FULLY_CONNECTED, [source, weights, bias], [result],
               fb.FullyConnectedOptionsT())
    content = pack(builder.build([source], [result]))

    inputs = np.zeros((1, 1), np.int8)
    expected = reference_outputs(content, inputs)
    # the reference sides with one candidate on every unit: all outputs k, or all k - 1
    assert tuple(expected[0] - np.arange(FIRST, FIRST + UNITS)) in {(0,) * UNITS, (-1,) * UNITS}
    _, _, executable = compile_for_host(read_tflite_bytes(content, "fc_scales"), tmp_path)
    assert (run_host(executable, inputs, UNITS) == expected).all()
