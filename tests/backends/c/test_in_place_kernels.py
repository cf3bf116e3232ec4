"""Kernels writing their output over their input (memory/in_place.py), bit-exact with TFLite's reference kernels:
a chain of elementwise ops where every op after the first runs in place (the first reads the graph input, which
is never overwritten). The four MLPerf models cover CONV_2D, DEPTHWISE_CONV_2D, ADD and SOFTMAX in place."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from tests.backends.c.conftest import compile_for_host
from tests.backends.c.model_draw import Draw, accumulator_spread, options_table, weight_scales
from tests.backends.c.single_op_models import run_reference
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack

SHAPE = [1, 6, 5, 7]


def _chain_model() -> bytes:
    """x → TANH → LOGISTIC → MUL(t, t) → QUANTIZE → SUB(t, constant row, broadcast) → RELU6 → ADD(t, t)."""
    builder = ModelBuilder()

    def tensor(name, scale, zero_point):
        return builder.tensor(name, SHAPE, quantization=make_quantization(scale, zero_point))

    def op(opcode, inputs, output, options=None):
        builder.op(opcode, inputs, [output], options)
        return output

    x = tensor("x", 0.04, 5)
    t = op(fb.BuiltinOperator.TANH, [x], tensor("tanh", 1 / 128, 0))
    t = op(fb.BuiltinOperator.LOGISTIC, [t], tensor("sigmoid", 1 / 256, -128))
    t = op(fb.BuiltinOperator.MUL, [t, t], tensor("square", 1 / 300, -100), fb.MulOptionsT())
    t = op(fb.BuiltinOperator.QUANTIZE, [t], tensor("requantised", 1 / 170, -20))
    row = builder.tensor("row", [1, 1, 1, 7], quantization=make_quantization(1 / 100, 3),
                         data=np.arange(-3, 4, dtype=np.int8) * 9)
    t = op(fb.BuiltinOperator.SUB, [t, row], tensor("difference", 1 / 90, 10), fb.SubOptionsT())
    t = op(fb.BuiltinOperator.RELU6, [t], tensor("clipped", 1 / 90, 10))
    total = op(fb.BuiltinOperator.ADD, [t, t], tensor("total", 1 / 60, -7), fb.AddOptionsT())
    return pack(builder.build([x], [total]))


def test_every_elementwise_kernel_is_bit_exact_in_place(tmp_path):
    content = _chain_model()
    graph = read_tflite_bytes(content, "chain")
    inputs = np.random.default_rng(3).integers(-128, 128, (16, int(np.prod(SHAPE))), dtype=np.int8)
    expected = np.stack([run_reference(content, [row.reshape(SHAPE)])[0].reshape(-1) for row in inputs])
    layout, _, executable = compile_for_host(graph, tmp_path, prepared=False)  # fused: one lookup
    assert layout.in_place_ops == frozenset(range(1, len(graph.ops)))  # all but the op reading the input
    assert (run_host(executable, inputs, expected.shape[1]) == expected).all()


def _grouped_conv_model() -> bytes:
    """x → 1×1 CONV_2D (8 channels) → grouped 3×3 CONV_2D (4 groups of 2 → 2, SAME, stride 1, RELU): the grouped
    conv reads an activation nothing else needs, so it can write over it."""
    draw = Draw(7)
    in_q, mid_q, out_q = (0.05, 3), (0.04, -10), (0.03, -128)

    def conv(source, source_q, depth, out_q_, kernel, channels):
        spread = accumulator_spread(kernel * kernel * depth, source_q[1], 0)
        scales = weight_scales(draw, channels, source_q[0], out_q_[0], spread)
        weights = draw.weights("filter", [channels, kernel, kernel, depth], scales, axis=0)
        result = draw.builder.tensor("conv", [1, 6, 5, channels], quantization=make_quantization(*out_q_))
        draw.builder.op(fb.BuiltinOperator.CONV_2D, [source, weights, draw.bias(source_q[0], scales, spread)],
                        [result], options_table(fb.Conv2DOptionsT, padding=fb.Padding.SAME, strideH=1, strideW=1,
                                                dilationHFactor=1, dilationWFactor=1,
                                                fusedActivationFunction=fb.ActivationFunctionType.RELU))
        return result

    x = draw.input([1, 6, 5, 3], in_q)
    middle = conv(x, in_q, 3, mid_q, 1, 8)
    result = conv(middle, mid_q, 2, out_q, 3, 8)
    return pack(draw.builder.build(draw.inputs, [result]))


def test_the_grouped_conv_kernel_is_bit_exact_in_place(tmp_path):
    content = _grouped_conv_model()
    graph = read_tflite_bytes(content, "grouped")
    inputs = np.random.default_rng(4).integers(-128, 128, (8, 6 * 5 * 3), dtype=np.int8)
    expected = np.stack([run_reference(content, [row.reshape(1, 6, 5, 3)])[0].reshape(-1) for row in inputs])
    layout, files, executable = compile_for_host(graph, tmp_path)
    assert 1 in layout.in_place_ops and "sapool_grouped_conv2d_s8(" in files["model/model.c"]
    assert (run_host(executable, inputs, expected.shape[1]) == expected).all()
