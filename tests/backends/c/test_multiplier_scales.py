"""Requantisation multipliers on models built to tell two candidate formulas apart.

TFLite's Prepare multiplies two scales either in double or in float32 (then widens to double); the two
multipliers differ in their last bits, which random models almost never notice. These models do: each output
unit's accumulator sits where the two multipliers round to different int8 values, so only one formula can be
bit-exact with the reference kernels. Measured: CONV_2D (per channel) and FULLY_CONNECTED use the double product,
BATCH_MATMUL the float32 one; the C backend must match each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c.host import run_host
from sapool.backends.c.quant import (
    float32_product,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_single,
    quantize_multiplier,
)
from sapool.ir.read import read_tflite_bytes
from tests.backends.c.conftest import compile_for_host, reference_outputs
from tests.ir.tflite_models import ModelBuilder, pack

UNITS = 12


def _quant(scale: float, zero_point: int = 0) -> fb.QuantizationParametersT:
    params = fb.QuantizationParametersT()
    params.scale, params.zeroPoint = [scale], [zero_point]
    return params


def _scales(seed: int, low: float, high: float) -> tuple[float, float, float, list[tuple[int, int]]]:
    """Float32 scales (a, b, out) whose two multipliers share a shift but differ by > 40, and both multipliers."""
    rng = np.random.default_rng(seed)
    while True:
        a, b = (float(np.float32(v)) for v in rng.uniform(1e-4, 1e-2, 2))
        out = float(np.float32(a * b * rng.uniform(low, high)))
        candidates = [quantize_multiplier(float32_product(a, b) / out), quantize_multiplier(a * b / out)]
        if candidates[0][1] == candidates[1][1] and abs(candidates[0][0] - candidates[1][0]) > 40:
            return a, b, out, candidates


def _boundary_accumulators(candidates, first: int, requantize: Callable[[int, int, int], int]) -> list[int]:
    """For k = first, first+1, ...: the smallest accumulator the larger multiplier maps to k, which the smaller
    one maps to k - 1 (first is chosen large enough that such accumulators exist)."""
    (low, shift), (high, _) = sorted(candidates)
    accumulators = []
    for k in range(first, first + UNITS):
        lo, hi = 0, 1 << 31
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if requantize(mid, high, shift) >= k else (mid + 1, hi)
        assert requantize(lo, high, shift) == k and requantize(lo, low, shift) == k - 1
        accumulators.append(lo)
    return accumulators


def _check(content: bytes, inputs: np.ndarray, first: int, tmp_path) -> None:
    expected = reference_outputs(content, inputs, rounding="tflite")  # the FULLY_CONNECTED kernel's own rounding
    # the reference sides with one candidate on every unit: all outputs k, or all k - 1
    assert tuple(expected[0] - np.arange(first, first + UNITS)) in {(0,) * UNITS, (-1,) * UNITS}
    _, _, executable = compile_for_host(read_tflite_bytes(content, "scales"), tmp_path, rounding="tflite")
    assert (run_host(executable, inputs, UNITS) == expected).all()


def test_fully_connected_where_the_formulas_disagree(tmp_path):
    """acc = bias (input 0, weights 1): the biases are the boundary accumulators."""
    a, b, out, candidates = _scales(11, 6e7, 9e7)
    biases = _boundary_accumulators(candidates, 4, multiply_by_quantized_multiplier_single)
    builder = ModelBuilder()
    source = builder.tensor("input", [1, 1], quantization=_quant(a))
    weights = builder.tensor("weights", [UNITS, 1], quantization=_quant(b), data=np.ones((UNITS, 1), np.int8))
    bias = builder.tensor("bias", [UNITS], fb.TensorType.INT32, _quant(a * b), np.array(biases, np.int32))
    result = builder.tensor("output", [1, UNITS], quantization=_quant(out))
    builder.op(fb.BuiltinOperator.FULLY_CONNECTED, [source, weights, bias], [result], fb.FullyConnectedOptionsT())
    _check(pack(builder.build([source], [result])), np.zeros((1, 1), np.int8), 4, tmp_path)


def test_batch_matmul_where_the_formulas_disagree(tmp_path):
    """lhs = (127, ..., 127, -127) at zero point -128, so column n of rhs gives acc = 255·Σ rhs[:-1, n] + rhs[-1, n]:
    any accumulator, spelled in int8 over a long enough depth."""
    a, b, out, candidates = _scales(5, 2e6, 4e6)
    accumulators = _boundary_accumulators(candidates, 40, multiply_by_quantized_multiplier)
    depth = 4000
    rhs = np.zeros((depth, UNITS), np.int64)
    for n, acc in enumerate(accumulators):
        coarse = round(acc / 255)
        full, rest = divmod(coarse, 127)
        rhs[:full, n], rhs[full, n], rhs[-1, n] = 127, rest, acc - 255 * coarse
    lhs = np.full(depth, 127, np.int8)
    lhs[-1] = -127
    assert ((lhs.astype(np.int64) + 128) @ rhs).tolist() == accumulators
    builder = ModelBuilder()
    source = builder.tensor("lhs", [1, 1, depth], quantization=_quant(a, -128))
    weights = builder.tensor("rhs", [1, depth, UNITS], quantization=_quant(b),
                             data=rhs.astype(np.int8).reshape(1, depth, UNITS))
    result = builder.tensor("output", [1, 1, UNITS], quantization=_quant(out))
    builder.op(fb.BuiltinOperator.BATCH_MATMUL, [source, weights], [result], fb.BatchMatMulOptionsT())
    _check(pack(builder.build([source], [result])), lhs[None], 40, tmp_path)


def test_conv_2d_where_the_formulas_disagree(tmp_path):
    """A 1x1 convolution of one pixel with per-channel weights 1 (all at the same scale): acc = bias."""
    a, b, out, candidates = _scales(13, 6e7, 9e7)
    biases = _boundary_accumulators(candidates, 4, multiply_by_quantized_multiplier)
    per_channel = fb.QuantizationParametersT()
    per_channel.scale, per_channel.zeroPoint, per_channel.quantizedDimension = [b] * UNITS, [0] * UNITS, 0
    bias_quant = fb.QuantizationParametersT()
    bias_quant.scale, bias_quant.zeroPoint = [a * b] * UNITS, [0] * UNITS
    options = fb.Conv2DOptionsT()
    options.padding, options.strideH, options.strideW = fb.Padding.VALID, 1, 1
    options.dilationHFactor = options.dilationWFactor = 1
    builder = ModelBuilder()
    source = builder.tensor("input", [1, 1, 1, 1], quantization=_quant(a))
    weights = builder.tensor("filter", [UNITS, 1, 1, 1], quantization=per_channel,
                             data=np.ones((UNITS, 1, 1, 1), np.int8))
    bias = builder.tensor("bias", [UNITS], fb.TensorType.INT32, bias_quant, np.array(biases, np.int32))
    result = builder.tensor("output", [1, 1, 1, UNITS], quantization=_quant(out))
    builder.op(fb.BuiltinOperator.CONV_2D, [source, weights, bias], [result], options)
    _check(pack(builder.build([source], [result])), np.zeros((1, 1), np.int8), 4, tmp_path)
