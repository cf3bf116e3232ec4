"""SOFTMAX → MUL → MEAN over window views fused into one kernel (passes/fuse_window.py, ops/window_pool.py):
bit-exact with TFLite's reference kernels running the unfused ops, and the views, probabilities and products
never get arena bytes. The models are SAP's window-normalised pooling as the export writes it (models/sap.py
WindowSoftmaxPool): NHWC → NCHW → (C·H/k, k, W/k, k) → (C·H/k, W/k, k, k) → (1, C, H/k, W/k, k²)."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c import fuse_for_c, scratch_needs
from sapool.ir.read import read_tflite_bytes
from sapool.passes.fuse_window import FUSED_WINDOW_POOL
from tests.backends.c.host_batch import build_batch, run_batch
from tests.backends.c.single_op_models import run_reference
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack

CASES = [  # (height, width, channels, window k, probabilities first in the MUL, NHWC source), seed
    ((8, 8, 4, 2, True, True), 0), ((12, 8, 3, 4, False, True), 1), ((6, 9, 5, 3, True, True), 2),
    ((4, 4, 2, 2, False, False), 3), ((16, 16, 1, 4, True, True), 4),
]
INPUTS = 40


def _window_pool_model(height, width, channels, k, probabilities_first, nhwc, seed) -> bytes:
    rng = np.random.default_rng(seed)
    builder = ModelBuilder()
    shape = [1, height, width, channels] if nhwc else [1, channels, height, width]
    view_shape = [1, channels, height // k, width // k, k * k]

    def view(source, name, quantization):
        current = source
        if nhwc:
            current = _transpose(builder, current, [0, 3, 1, 2], [1, channels, height, width], name, quantization)
        current = _reshape(builder, current, [channels * height // k, k, width // k, k], f"{name}_rows", quantization)
        current = _transpose(builder, current, [0, 2, 1, 3], [channels * height // k, width // k, k, k], name,
                             quantization)
        return _reshape(builder, current, view_shape, f"{name}_view", quantization)

    m_quant = (float(rng.uniform(0.02, 0.2)), int(rng.integers(-30, 30)))
    x_quant = (float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 30)))
    m = builder.tensor("m", shape, quantization=make_quantization(*m_quant))
    x = builder.tensor("x", shape, quantization=make_quantization(*x_quant))
    probabilities = builder.tensor("p", view_shape, quantization=make_quantization(1 / 256, -128))
    softmax = fb.SoftmaxOptionsT()
    softmax.beta = 1.0
    builder.op(fb.BuiltinOperator.SOFTMAX, [view(m, "m", m_quant)], [probabilities], softmax)
    x_view = view(x, "x", x_quant)
    product = builder.tensor("px", view_shape, quantization=make_quantization(x_quant[0] * rng.uniform(0.3, 1.0),
                                                                                int(rng.integers(-10, 10))))
    builder.op(fb.BuiltinOperator.MUL, [probabilities, x_view] if probabilities_first else [x_view, probabilities],
               [product], fb.MulOptionsT())
    axes = builder.tensor("axes", [1], fb.TensorType.INT32, data=np.array([-1], np.int32))
    pooled = builder.tensor("y", view_shape[:-1], quantization=make_quantization(x_quant[0] / k, 0))
    builder.op(fb.BuiltinOperator.MEAN, [product, axes], [pooled], fb.ReducerOptionsT())
    return pack(builder.build([m, x], [pooled]))


def _transpose(builder, source, perm, shape, name, quantization):
    perm_tensor = builder.tensor(f"{name}_perm{len(builder.tensors)}", [len(perm)], fb.TensorType.INT32,
                                 data=np.array(perm, np.int32))
    out = builder.tensor(f"{name}_t{len(builder.tensors)}", shape, quantization=make_quantization(*quantization))
    builder.op(fb.BuiltinOperator.TRANSPOSE, [source, perm_tensor], [out], fb.TransposeOptionsT())
    return out


def _reshape(builder, source, shape, name, quantization):
    shape_tensor = builder.tensor(f"{name}_shape", [len(shape)], fb.TensorType.INT32, data=np.array(shape, np.int32))
    out = builder.tensor(name, shape, quantization=make_quantization(*quantization))
    builder.op(fb.BuiltinOperator.RESHAPE, [source, shape_tensor], [out], fb.ReshapeOptionsT())
    return out


@pytest.fixture(scope="module")
def window_pools(tmp_path_factory):
    models = [_window_pool_model(*case, seed) for case, seed in CASES]
    graphs = [read_tflite_bytes(model, f"window_pool{n}") for n, model in enumerate(models)]
    fused = [fuse_for_c(graph) for graph in graphs]
    return models, graphs, fused, build_batch([*graphs, *fused], tmp_path_factory.mktemp("window_pools"))


def test_the_whole_pattern_becomes_one_op_with_one_window_of_scratch(window_pools):
    _, graphs, fused, _ = window_pools
    for (case, _), graph, fused_graph in zip(CASES, graphs, fused):
        (op,) = fused_graph.ops
        assert op.opcode == FUSED_WINDOW_POOL and op.inputs == tuple(graph.inputs)
        assert scratch_needs(fused_graph) == {0: case[3] ** 2}


def test_fused_and_unfused_kernels_equal_tflite(window_pools):
    models, graphs, fused, executable = window_pools
    rng = np.random.default_rng(7)
    for n, (model, graph) in enumerate(zip(models, graphs)):
        sizes = [graph.tensor(i).nbytes for i in graph.inputs]
        inputs = rng.integers(-128, 128, (INPUTS, sum(sizes)), np.int8)
        inputs[: INPUTS // 4, : sizes[0]] = rng.integers(-128, 128, (INPUTS // 4, 1), np.int8)  # flat weights: ties
        output_bytes = graph.tensor(graph.outputs[0]).nbytes
        expected = np.array([run_reference(model, [row[: sizes[0]].reshape(graph.tensor(graph.inputs[0]).shape),
                                                   row[sizes[0]:].reshape(graph.tensor(graph.inputs[1]).shape)]
                                           )[0].reshape(-1) for row in inputs])
        assert np.array_equal(run_batch(executable, n, inputs, output_bytes), expected), f"case {n} unfused"
        assert np.array_equal(run_batch(executable, len(graphs) + n, inputs, output_bytes), expected), f"case {n}"


def test_a_view_read_elsewhere_is_not_fused():
    graph = read_tflite_bytes(_window_pool_model(8, 8, 2, 2, True, True, 0), "shared")
    softmax = next(op for op in graph.ops if op.opcode == "SOFTMAX")
    graph.outputs = (*graph.outputs, softmax.inputs[0])  # the weights' view is now also a model output
    assert all(op.opcode != FUSED_WINDOW_POOL for op in fuse_for_c(graph).ops)
