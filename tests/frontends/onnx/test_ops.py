"""Op by op: each tricky ONNX semantic converts to the same numbers as onnxruntime.

Every case is a one- or two-node model built with onnx.helper; load_model already refuses a parity above 1e-4,
and each test compares again on inputs of its own, with a much tighter tolerance.
"""

import numpy as np
import pytest
import torch

from sapool.errors import UnsupportedError
from sapool.frontends import load_model
from tests.frontends.onnx.onnx_graphs import OnnxGraph, run_onnxruntime

SHAPE = [1, 4, 9, 10]  # odd and even spatial sizes, so SAME padding is asymmetric on one axis


def _check(g: OnnxGraph, path, output: str, output_shape, opset: int = 17):
    path = g.save(path, output, output_shape, opset)
    loaded = load_model(path)
    x = np.random.default_rng(11).uniform(-2, 2, loaded.input_shape).astype(np.float32)
    with torch.no_grad():
        ours = loaded.module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, run_onnxruntime(path, x), rtol=0, atol=2e-6)
    return loaded


@pytest.mark.parametrize("attributes, out", [
    ({"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 0, 1, 1]}, [1, 4, 5, 5]),
    ({"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, [1, 4, 5, 5]),
    ({"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1}, [1, 4, 5, 5]),
    ({"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 2, 1], "count_include_pad": 1}, [1, 4, 6, 5]),
    ({"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "SAME_UPPER"}, [1, 4, 5, 5]),
    ({"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, [1, 4, 5, 5]),
])
def test_average_pool_padding_and_count_include_pad(tmp_path, attributes, out):
    g = OnnxGraph(SHAPE)
    _check(g, tmp_path / "m.onnx", g.node("AveragePool", ["image"], "pool", **attributes), out)


@pytest.mark.parametrize("attributes, out", [
    ({"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_LOWER"}, [1, 4, 5, 5]),
    ({"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [2, 2]}, [1, 4, 7, 8]),
    ({"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 1, 0]}, [1, 4, 5, 5]),
])
def test_max_pool(tmp_path, attributes, out):
    g = OnnxGraph(SHAPE)
    _check(g, tmp_path / "m.onnx", g.node("MaxPool", ["image"], "pool", **attributes), out)


@pytest.mark.parametrize("attributes, out", [
    ({"strides": [2, 2], "auto_pad": "SAME_LOWER"}, [1, 6, 5, 5]),
    ({"strides": [1, 2], "dilations": [2, 1], "pads": [2, 1, 2, 1]}, [1, 6, 9, 5]),
    ({"group": 2, "pads": [0, 1, 2, 0]}, [1, 6, 9, 9]),
])
def test_conv_padding_dilation_groups(tmp_path, attributes, out):
    g = OnnxGraph(SHAPE)
    weight = g.weight("w", (6, 4 // attributes.get("group", 1), 3, 3))
    _check(g, tmp_path / "m.onnx", g.node("Conv", ["image", weight, g.weight("b", (6,))], "conv", **attributes), out)


@pytest.mark.parametrize("opset, axis", [(11, 1), (11, 3), (13, 1), (13, -1)])
def test_softmax_axis_semantics_before_and_after_opset_13(tmp_path, opset, axis):
    g = OnnxGraph(SHAPE)
    _check(g, tmp_path / "m.onnx", g.node("Softmax", ["image"], "softmax", axis=axis), SHAPE, opset)


@pytest.mark.parametrize("scales, sizes, attributes, out", [
    ([1, 1, 2, 3], None, {}, [1, 4, 18, 30]),  # default half_pixel + round_prefer_floor
    (None, [1, 4, 18, 20], {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
     [1, 4, 18, 20]),
])
def test_resize_nearest_by_scales_or_sizes(tmp_path, scales, sizes, attributes, out):
    g = OnnxGraph(SHAPE)
    if scales:
        inputs = ["image", "", g.constant("scales", np.array(scales, np.float32))]
    else:
        inputs = ["image", "", "", g.constant("sizes", np.array(sizes, np.int64))]
    _check(g, tmp_path / "m.onnx", g.node("Resize", inputs, "resize", mode="nearest", **attributes), out)


def test_resize_that_torch_nearest_cannot_express_is_refused(tmp_path):
    g = OnnxGraph(SHAPE)
    scales = g.constant("scales", np.array([1, 1, 2, 2], np.float32))
    path = g.save(tmp_path / "m.onnx", g.node("Resize", ["image", "", scales], "resize", mode="nearest",
                                              coordinate_transformation_mode="align_corners"), [1, 4, 18, 20])
    with pytest.raises(UnsupportedError, match="Resize node 'resize': coordinate_transformation_mode/nearest_mode "
                                               "align_corners/round_prefer_floor"):
        load_model(path)


def test_upsample_opset_9(tmp_path):
    g = OnnxGraph(SHAPE)
    scales = g.constant("scales", np.array([1, 1, 2, 2], np.float32))
    _check(g, tmp_path / "m.onnx", g.node("Upsample", ["image", scales], "up", mode="nearest"), [1, 4, 18, 20], 9)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad_modes(tmp_path, mode):
    g = OnnxGraph(SHAPE)
    pads = g.constant("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))
    fill = g.constant("fill", np.float32(0.5))
    inputs = ["image", pads, fill] if mode == "constant" else ["image", pads]
    _check(g, tmp_path / "m.onnx", g.node("Pad", inputs, "pad", mode=mode), [1, 4, 12, 13])


def test_gemm_with_alpha_beta_and_untransposed_weight(tmp_path):
    g = OnnxGraph([1, 6])
    y = g.node("Gemm", ["image", g.weight("w", (6, 3)), g.weight("c", (1, 3))], "gemm", alpha=0.5, beta=2.0)
    loaded = _check(g, tmp_path / "m.onnx", y, [1, 3])
    assert sum(isinstance(m, torch.nn.Linear) for m in loaded.module.modules()) == 1


def test_matmul_of_two_run_time_tensors(tmp_path):
    g = OnnxGraph([1, 2, 5, 3])
    t = g.node("Transpose", ["image"], "t", perm=[0, 1, 3, 2])
    _check(g, tmp_path / "m.onnx", g.node("MatMul", ["image", t], "mm"), [1, 2, 5, 5])


def test_clip_bounds_as_attributes_and_as_inputs(tmp_path):
    g = OnnxGraph(SHAPE)
    low = g.node("Clip", ["image"], "low_only", min=-0.5)
    both = g.node("Clip", [low], "both", min=-0.25, max=1.5)
    _check(g, tmp_path / "m.onnx", g.node("LeakyRelu", [both], "leaky", alpha=0.2), SHAPE, 6)


def test_activations_and_arithmetic_with_constants(tmp_path):
    g = OnnxGraph(SHAPE)
    x = g.node("Sub", ["image", g.weight("shift", (4, 1, 1))], "sub")
    x = g.node("Div", [x, g.weight("scale", (1, 4, 1, 1), 1.0, low=0.5)], "div")
    x = g.node("Mul", [g.node("Sigmoid", [x], "sig"), g.node("Tanh", [x], "tanh")], "mul")
    _check(g, tmp_path / "m.onnx", g.node("HardSwish", [x], "hswish"), SHAPE)


def test_shape_arithmetic_folds_into_one_reshape(tmp_path):
    """Shape → Gather → Unsqueeze → Concat → Reshape, as exporters write a flatten: no shape op survives."""
    g = OnnxGraph(SHAPE)
    shape = g.node("Shape", ["image"], "shape")
    batch = g.node("Gather", [shape, g.constant("zero", np.array(0, np.int64))], "batch", axis=0)
    batch = g.node("Unsqueeze", [batch, g.constant("axes", np.array([0], np.int64))], "batch_1d")
    target = g.node("Concat", [batch, g.constant("minus_one", np.array([-1], np.int64))], "target", axis=0)
    loaded = _check(g, tmp_path / "m.onnx", g.node("Reshape", ["image", target], "flatten"), [1, 360])
    calls = [node.target for node in loaded.module.inner.graph.nodes if node.op == "call_function"]
    assert calls == [torch.reshape]


def test_squeeze_unsqueeze_slice_gather_reduce_mean(tmp_path):
    g = OnnxGraph(SHAPE)
    x = g.node("ReduceMean", ["image", g.constant("axes", np.array([2], np.int64))], "mean", keepdims=1)
    x = g.node("Squeeze", [x, g.constant("sq", np.array([2], np.int64))], "squeeze")
    x = g.node("Slice", [x, g.constant("st", np.array([-7], np.int64)), g.constant("en", np.array([100], np.int64)),
                         g.constant("sax", np.array([2], np.int64)), g.constant("step", np.array([2], np.int64))],
               "slice")
    x = g.node("Gather", [x, g.constant("idx", np.array([3, -1], np.int64))], "gather", axis=1)
    _check(g, tmp_path / "m.onnx", g.node("Unsqueeze", [x, g.constant("un", np.array([-1], np.int64))], "unsq"),
           [1, 2, 4, 1], 18)


def test_squeeze_and_reduce_mean_with_attribute_axes_before_opset_13(tmp_path):
    g = OnnxGraph(SHAPE)
    x = g.node("ReduceMean", ["image"], "mean", axes=[2, 3], keepdims=1)
    x = g.node("Squeeze", [x], "squeeze", axes=[3])
    _check(g, tmp_path / "m.onnx", g.node("Flatten", [x], "flat", axis=2), [1, 4, 1], 11)


@pytest.mark.parametrize("slope_shape", [(1,), (4, 1, 1), (10,)])
def test_prelu_scalar_per_channel_and_broadcast_slopes(tmp_path, slope_shape):
    g = OnnxGraph(SHAPE)
    _check(g, tmp_path / "m.onnx", g.node("PRelu", ["image", g.weight("slope", slope_shape)], "prelu"), SHAPE)


@pytest.mark.parametrize("opset, attributes, split", [(11, {"split": [1, 3]}, None), (13, {}, [3, 1]),
                                                       (18, {"num_outputs": 2}, None)])
def test_split_then_max_and_min_of_the_parts(tmp_path, opset, attributes, split):
    g = OnnxGraph(SHAPE)
    inputs = ["image", g.constant("split", np.array(split, np.int64))] if split else ["image"]
    a, b = "part_a", "part_b"
    g.node("Split", inputs, "split", outputs=[a, b], axis=1, **attributes)
    low = g.node("ReduceMean", [a], "mean_a", axes=[1], keepdims=1) if opset < 18 else g.node(
        "ReduceMean", [a, g.constant("axes", np.array([1], np.int64))], "mean_a", keepdims=1)
    swapped = g.node("Concat", [b, a], "swapped", axis=1)
    y = g.node("Max", [g.node("Min", [low, "image"], "min"), swapped, "image"], "max")
    _check(g, tmp_path / "m.onnx", y, SHAPE, opset)


def test_constant_attributes_keep_onnx_dtypes(tmp_path):
    """value_floats is float32 in ONNX: a float64 constant would turn the rest of the graph into float64."""
    g = OnnxGraph([1, 3])
    scale = g.node("Constant", [], "scale", value_floats=[0.5, 2.0, -1.0])
    offset = g.node("Constant", [], "offset", value_float=0.25)
    y = g.node("Add", [g.node("Mul", ["image", scale], "mul"), offset], "add")
    loaded = _check(g, tmp_path / "m.onnx", y, [1, 3])
    assert loaded.module(torch.zeros(1, 3)).dtype == torch.float32
