"""ONNX model-zoo CNN architectures (Caffe2-exported, opset 9) convert and match onnxruntime.

The graphs come with the onnx wheel (zoo_models.py gives them seeded random weights and cuts the final Softmax).
SqueezeNet (Concat, Dropout, GlobalAveragePool) and ShuffleNet (Sum, channel-shuffle Reshape/Transpose, grouped
convs) keep the suite fast; ResNet-50, DenseNet-121 and Inception-v2 convert too (docs/frontends.md has their
figures) but take 20-30 s each at 224×224 on two shared cores.
AlexNet-style models use LRN, which has no int8 lowering: refused, naming the node.
"""

import numpy as np
import pytest
import torch
from torch import nn

from sapool.errors import UnsupportedError
from sapool.frontends import load_model
from tests.frontends.onnx.onnx_graphs import run_onnxruntime
from tests.frontends.onnx.zoo_models import LIGHT_MODELS, with_random_weights


@pytest.mark.parametrize("name, convs", [("squeezenet", 26), ("shufflenet", 49)])
def test_zoo_architecture_converts_and_matches_onnxruntime(tmp_path, name, convs):
    path = with_random_weights(name, tmp_path / f"{name}.onnx")
    loaded = load_model(path)
    assert loaded.input_shape == (1, 3, 224, 224) and loaded.parity < 1e-5
    assert sum(isinstance(m, nn.Conv2d) for m in loaded.module.modules()) == convs
    x = np.random.default_rng(4).uniform(0, 1, loaded.input_shape).astype(np.float32)
    expected = run_onnxruntime(path, x)
    with torch.no_grad():
        ours = loaded.module(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(ours - expected)) / np.max(np.abs(expected)) < 1e-5


def test_lrn_is_refused_naming_the_node():
    with pytest.raises(UnsupportedError, match=r"ONNX op LRN \(node 'n2'\) is not supported"):
        load_model(LIGHT_MODELS / "light_bvlc_alexnet.onnx")
