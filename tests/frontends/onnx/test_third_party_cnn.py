"""A third-party-style ONNX CNN (built with onnx.helper, not exported by sapool) converts and matches onnxruntime."""

import numpy as np
import pytest
import torch
from torch import nn

from sapool.frontends import load_model
from tests.frontends.onnx.onnx_graphs import OnnxGraph, run_onnxruntime


def third_party_cnn(path):
    """conv+BN+relu (TF-style asymmetric pads), depthwise + relu6, residual add, max/avg pool branches
    concatenated, SAME_UPPER conv, global average pool, flatten, gemm, softmax; batch dimension symbolic."""
    g = OnnxGraph(["N", 3, 32, 32])
    x = g.node("Conv", ["image", g.weight("c1_w", (8, 3, 3, 3)), g.weight("c1_b", (8,), 0.1)], "conv1",
               kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])
    x = g.node("BatchNormalization", [x, g.weight("bn_s", (8,), 1.0, low=0.5), g.weight("bn_b", (8,), 0.2),
                                      g.weight("bn_m", (8,), 0.2), g.weight("bn_v", (8,), 1.0, low=0.5)],
               "bn1", epsilon=1e-3)
    skip = g.node("Relu", [x], "relu1")
    x = g.node("Conv", [skip, g.weight("dw_w", (8, 1, 3, 3))], "depthwise", group=8, pads=[1, 1, 1, 1])
    x = g.node("Clip", [x, g.constant("zero", np.float32(0)), g.constant("six", np.float32(6))], "relu6")
    x = g.node("Conv", [x, g.weight("pw_w", (8, 8, 1, 1)), g.weight("pw_b", (8,), 0.1)], "pointwise")
    x = g.node("Add", [skip, x], "residual")
    a = g.node("MaxPool", [x], "maxpool", kernel_shape=[2, 2], strides=[2, 2])
    b = g.node("AveragePool", [x], "avgpool", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])
    x = g.node("Concat", [a, b], "concat", axis=1)
    x = g.node("Conv", [x, g.weight("c3_w", (16, 16, 3, 3), 0.1)], "conv3", strides=[2, 2], auto_pad="SAME_UPPER")
    x = g.node("Relu", [x], "relu3")
    x = g.node("GlobalAveragePool", [x], "gap")
    x = g.node("Flatten", [x], "flatten")
    x = g.node("Gemm", [x, g.weight("fc_w", (10, 16)), g.weight("fc_b", (10,), 0.1)], "fc", transB=1)
    return g.save(path, g.node("Softmax", [x], "softmax", axis=-1), ["N", 10])


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    path = third_party_cnn(tmp_path_factory.mktemp("onnx") / "third_party.onnx")
    return path, load_model(path)


def test_loads_with_batch_one_and_reports_its_parity(cnn):
    _, loaded = cnn
    assert loaded.kind == "onnx" and loaded.input_shape == (1, 3, 32, 32)
    assert loaded.parity is not None and loaded.parity < 1e-5
    assert "parity vs onnxruntime" in loaded.description


def test_matches_onnxruntime_on_fresh_inputs(cnn):
    path, loaded = cnn
    inputs = np.random.default_rng(7).uniform(-3, 3, (4, 1, 3, 32, 32)).astype(np.float32)
    for x in inputs:
        with torch.no_grad():
            ours = loaded.module(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, run_onnxruntime(path, x), rtol=0, atol=1e-6)


def test_weights_are_layer_parameters_for_the_quantiser(cnn):
    _, loaded = cnn
    convs = [m for m in loaded.module.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.groups) for c in convs] == [(3, 8, 1), (8, 8, 8), (8, 8, 1),
                                                                         (16, 16, 1)]
    assert convs[1].padding == (1, 1) and convs[0].padding == (0, 0)  # asymmetric pads became an explicit pad
    assert sum(isinstance(m, nn.BatchNorm2d) for m in loaded.module.modules()) == 1
    linear = next(m for m in loaded.module.modules() if isinstance(m, nn.Linear))
    assert (linear.in_features, linear.out_features) == (16, 10)
    assert not loaded.module.training


def test_torch_export_accepts_the_converted_module(cnn):
    _, loaded = cnn
    x = torch.randn(loaded.input_shape)
    program = torch.export.export(loaded.module, (x,))
    with torch.no_grad():
        torch.testing.assert_close(program.module()(x), loaded.module(x))


def test_a_channels_last_input_is_taken_as_nchw(tmp_path):
    """tf2onnx-style: NHWC input → Transpose(0,3,1,2) → conv. The module takes NCHW; the numbers are the same."""
    g = OnnxGraph(["N", 12, 10, 3])
    x = g.node("Transpose", ["image"], "to_nchw", perm=[0, 3, 1, 2])
    x = g.node("Conv", [x, g.weight("w", (4, 3, 3, 3))], "conv", auto_pad="SAME_UPPER", strides=[2, 2])
    path = g.save(tmp_path / "nhwc.onnx", g.node("Relu", [x], "relu"), ["N", 4, 6, 5])
    loaded = load_model(path)
    assert loaded.input_shape == (1, 3, 12, 10) and "NHWC input taken as NCHW" in loaded.description
    assert loaded.parity < 1e-6
    nhwc = np.random.default_rng(1).standard_normal((1, 12, 10, 3)).astype(np.float32)
    with torch.no_grad():
        ours = loaded.module(torch.from_numpy(nhwc.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(ours, run_onnxruntime(path, nhwc), rtol=0, atol=1e-6)
    assert [n.target for n in loaded.module.inner.graph.nodes if n.op == "call_function"] == [
        torch.nn.functional.pad, torch.nn.functional.relu]  # SAME_UPPER's asymmetric pad; no transpose left


def test_runs_any_batch_size_and_exports_at_batch_one(cnn):
    """The accuracy report runs whole batches; quantisation exports at the traced batch size (1)."""
    _, loaded = cnn
    images = torch.randn(5, 3, 32, 32, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        whole = loaded.module(images)
        one_by_one = torch.cat([loaded.module(image[None]) for image in images])
    torch.testing.assert_close(whole, one_by_one, rtol=0, atol=0)
    program = torch.export.export(loaded.module, (images[:1],))
    targets = [str(node.target) for node in program.graph.nodes]
    assert targets.count("aten.cat.default") == 1 and not any("split" in t for t in targets)  # the CNN's own Concat
