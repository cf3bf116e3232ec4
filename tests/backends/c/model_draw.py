"""Draw: the random source and model under construction behind each single-op builder in single_op_models."""

from __future__ import annotations

import math

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from tests.ir.tflite_models import ModelBuilder, make_quantization


def options_table(options_class, **fields):
    """An options table object (fb.Conv2DOptionsT, ...) with the given fields set."""
    table = options_class()
    for name, value in fields.items():
        setattr(table, name, value)
    return table


class Draw:
    """One model being drawn: a seeded generator, the model under construction, and the label's parameters."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.builder = ModelBuilder()
        self.inputs: list[int] = []
        self.params: dict[str, object] = {}
        self.float_step = 1.0  # what float32 inputs are drawn around (SingleOpModel.float_step)

    # ---- random values ----
    def int(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return int(self.rng.integers(low, high + 1))

    def choice(self, options):
        return options[self.int(0, len(options) - 1)]

    def log_uniform(self, low: float, high: float, size=None):
        return np.exp(self.rng.uniform(math.log(low), math.log(high), size))

    def shape(self, rank: int, high: int = 6) -> list[int]:
        return [self.int(1, high) for _ in range(rank)]

    def int8(self, shape, low: int = -128) -> np.ndarray:
        return self.rng.integers(low, 128, shape, dtype=np.int8)

    def activation_quant(self) -> tuple[float, int]:
        """(scale, zero point) of an activation as the converter calibrates it: asymmetric, zero point anywhere."""
        return float(self.log_uniform(0.005, 0.2)), self.int(-100, 100)

    def output_quant(self, activation: str) -> tuple[float, int]:
        """Output quantisation that leaves a fused activation's clamps inside the int8 range, so they are exercised."""
        if activation == "RELU6":
            levels = self.int(40, 250)  # 6.0 sits `levels` steps above the zero point
            return 6.0 / levels, self.int(-128, max(-128, 127 - levels))
        if activation == "RELU":
            return float(self.log_uniform(0.005, 0.2)), self.int(-128, 60)
        return self.activation_quant()

    def note(self, **params) -> None:
        self.params.update(params)

    # ---- tensors ----
    def input(self, shape, quant: tuple[float, int] | None, tensor_type=fb.TensorType.INT8) -> int:
        quantization = None if quant is None else make_quantization(*quant)
        index = self.builder.tensor(f"input{len(self.inputs)}", shape, tensor_type, quantization)
        self.inputs.append(index)
        return index

    def operand(self, shape, quant: tuple[float, int], constant: bool) -> int:
        """A graph input, or an int8 constant of the same shape and quantisation."""
        if not constant:
            return self.input(shape, quant)
        return self.builder.tensor("constant", shape, quantization=make_quantization(*quant), data=self.int8(shape))

    def int32_constant(self, name: str, values) -> int:
        array = np.asarray(values, np.int32)
        return self.builder.tensor(name, array.shape, fb.TensorType.INT32, data=array)

    def weights(self, name: str, shape, scales, axis: int) -> int:
        quant = make_quantization(scales, np.zeros(len(scales), np.int64), axis)
        return self.builder.tensor(name, shape, quantization=quant, data=self.int8(shape, low=-127))

    def bias(self, input_scale: float, weight_scales, spread: float) -> int:
        """int32 bias at scale input_scale·weight_scale (as float32, like TFLite), values of the accumulators' size."""
        scales = np.float32(input_scale) * np.float32(weight_scales)
        values = np.clip(self.rng.normal(0, spread, len(scales)), -2**30, 2**30).astype(np.int32)
        quant = make_quantization(scales, np.zeros(len(scales), np.int64))
        return self.builder.tensor("bias", [len(scales)], fb.TensorType.INT32, quant, values)

    def output(self, shape, quant: tuple[float, int] | None, tensor_type=fb.TensorType.INT8) -> int:
        quantization = None if quant is None else make_quantization(*quant)
        return self.builder.tensor("output", shape, tensor_type, quantization)


def accumulator_spread(depth: int, *zero_points: int) -> float:
    """Standard deviation of a sum of `depth` products of uniform int8 values (std ≈ 74) offset by zero points."""
    return math.sqrt(depth) * math.prod(math.sqrt(74.0**2 + z**2) for z in zero_points)


def weight_scales(draw: Draw, count: int, input_scale: float, output_scale: float, spread: float):
    """Per-channel weight scales putting the requantised accumulators at roughly ±50 output steps (×/÷ 2)."""
    base = output_scale * 50.0 / (input_scale * spread)
    return (base * draw.log_uniform(0.5, 2.0, count)).astype(np.float32)
