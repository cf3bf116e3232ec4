"""Transformer and MLP exports convert: LayerNormalization, Gelu, GELU written with Erf, attention's shape
arithmetic (Shape → Gather → Cast → Sqrt, Mod) folded, Gather of run-time data as slices; both of torch's exporters'
files of the tiny transformer reproduce the torch module."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from sapool.errors import UnsupportedError
from sapool.frontends import load_model
from tests.frontends.onnx.onnx_graphs import OnnxGraph, run_onnxruntime
from tests.quantize.transformer_models import make


def _gelu_by_erf(g: OnnxGraph, x: str, prefix: str, half_first: bool) -> str:
    scaled = g.node("Div", [x, g.constant(f"{prefix}_sqrt2", np.float32(math.sqrt(2)))], f"{prefix}_div")
    shifted = g.node("Add", [g.node("Erf", [scaled], f"{prefix}_erf"), g.constant(f"{prefix}_one", np.float32(1))],
                     f"{prefix}_add")
    half = g.constant(f"{prefix}_half", np.float32(0.5))
    if half_first:
        return g.node("Mul", [g.node("Mul", [shifted, half], f"{prefix}_half_mul"), x], f"{prefix}_x_mul")
    return g.node("Mul", [g.node("Mul", [x, shifted], f"{prefix}_x_mul"), half], f"{prefix}_half_mul")


def test_layer_normalization_and_erf_gelu_convert(tmp_path):
    g = OnnxGraph([1, 6, 8], input_name="tokens")
    x = g.node("LayerNormalization", ["tokens", g.weight("gamma", (8,), 1.0, low=0.5), g.weight("beta", (8,))],
               "norm", axis=-1, epsilon=1e-5)
    x = _gelu_by_erf(g, x, "gelu_a", half_first=False)
    x = _gelu_by_erf(g, x, "gelu_b", half_first=True)
    path = g.save(tmp_path / "norm.onnx", x, [1, 6, 8])
    loaded = load_model(path)
    assert loaded.input_shape == (1, 6, 8) and loaded.parity < 1e-5
    ops = {node.target for node in loaded.module.inner.graph.nodes}
    assert torch.nn.functional.gelu in ops and torch.erf not in ops
    sample = np.random.default_rng(0).standard_normal((1, 6, 8)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(loaded.module(torch.from_numpy(sample)).numpy(), run_onnxruntime(path, sample),
                                   atol=1e-5)


def test_an_erf_outside_gelu_is_refused_with_the_way_out(tmp_path):
    g = OnnxGraph([1, 8], input_name="x")
    path = g.save(tmp_path / "erf.onnx", g.node("Erf", ["x"], "lone_erf"), [1, 8])
    with pytest.raises(UnsupportedError, match=r"ONNX op Erf \(node 'lone_erf'\).*export GELU as nn.GELU"):
        load_model(path)


def test_run_time_gather_becomes_slices_and_shape_arithmetic_folds(tmp_path):
    g = OnnxGraph([1, 4, 6], input_name="x")
    picked = g.node("Gather", ["x", g.constant("rows", np.array([3, 0, 1], np.int64))], "pick", axis=1)
    depth = g.node("Cast", [g.node("Gather", [g.node("Shape", ["x"], "shape"), g.constant("last", np.int64(2))],
                                   "depth")], "depth_float", to=1)
    root = g.node("Sqrt", [depth], "sqrt")
    wrapped = g.node("Cast", [g.node("Mod", [g.constant("seven", np.int64(7)), g.constant("four", np.int64(4))],
                                     "mod")], "mod_float", to=1)
    y = g.node("Mul", [g.node("Div", [picked, root], "div"), wrapped], "scaled")
    path = g.save(tmp_path / "gather.onnx", y, [1, 3, 6])
    loaded = load_model(path)
    assert loaded.parity < 1e-6
    targets = {getattr(node.target, "__name__", str(node.target)) for node in loaded.module.inner.graph.nodes}
    assert "index_select" not in targets and "sqrt" not in targets and "remainder" not in targets


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
def test_both_exporters_files_of_the_transformer_convert(tmp_path, dynamo):
    module, shape = make("transformer")
    path = tmp_path / "transformer.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(shape),), str(path), dynamo=dynamo, verbose=False)
    loaded = load_model(path)
    assert loaded.input_shape == shape and loaded.parity < 1e-5
    x = torch.randn(2, *shape[1:], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), module(x), rtol=0, atol=1e-5)


def test_an_op_the_quantiser_refuses_names_its_onnx_node(tmp_path):
    from sapool.quantize.convert import quantize_to_tflite

    g = OnnxGraph([1, 8], input_name="x")
    path = g.save(tmp_path / "div.onnx", g.node("Div", ["x", g.node("Sigmoid", ["x"], "gate")], "ratio"), [1, 8])
    loaded = load_model(path)
    with pytest.raises(UnsupportedError, match=r"op div .*from ONNX Div node 'ratio'"):
        quantize_to_tflite(loaded.module, loaded.input_shape, [torch.randn(1, 8)])
