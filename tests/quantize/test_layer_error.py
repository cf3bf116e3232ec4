"""Which int8 op stands for which torch module, and the error measures, on a hand-written graph."""

import numpy as np
import pytest
import torch
from torch import nn

from sapool.ir.graph import Graph, Op, Quantization, Tensor
from sapool.models.blocks import conv_bn
from sapool.quantize.layer_error import OUTPUT_NAME, layer_errors, match_layers

WRAPPER = "litert_torch._convert.to_channel_last_io.ChannelLastIOWrapper/x.Net_wrapped"


class Net(nn.Module):
    """conv+BN+ReLU, then conv+BN+sigmoid (the conv's own output exists in no torch module), then a linear."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn(1, 2, 1, act=nn.ReLU)
        self.gate = conv_bn(2, 2, 1, act=nn.Sigmoid)
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        return self.classifier(self.gate(self.stem(x)).flatten(1))


def name(*levels: str) -> str:
    return "/".join([WRAPPER, *levels]) + ";"


def net_graph() -> Graph:
    q = Quantization((0.1,), (0,))
    tensors = [
        Tensor(0, "input", (1, 2, 2, 1), "int8", q),
        Tensor(1, name("t.Sequential_stem", "t.ReLU_act"), (1, 2, 2, 2), "int8", q),
        Tensor(2, name("t.Sequential_gate", "t.Conv2d_conv"), (1, 2, 2, 2), "int8", q),
        Tensor(3, name("t.Sequential_gate", "t.Sigmoid_act"), (1, 2, 2, 2), "int8", q),
        Tensor(4, name("t.Net"), (1, 8), "int8", q),
        Tensor(5, "serving_default_output_0_output", (1, 3), "int8", q),
    ]
    ops = [Op(0, "CONV_2D", (0,), (1,)), Op(1, "CONV_2D", (1,), (2,)), Op(2, "LOGISTIC", (2,), (3,)),
           Op(3, "RESHAPE", (3,), (4,)), Op(4, "FULLY_CONNECTED", (4,), (5,))]
    return Graph("net", tensors, ops, (0,), (5,))


def test_ops_stand_for_the_sequential_they_complete_and_the_output_for_the_model():
    assert match_layers(net_graph(), Net()) == {"stem": 0, "gate": 2, "": 4}


def test_errors_compare_nhwc_int8_with_nchw_float_outputs():
    torch.manual_seed(0)
    model = Net().eval()
    images = torch.randn(3, 1, 2, 2)
    outputs = {}
    with torch.no_grad():
        stem = model.stem(images)
        gate = model.gate(stem)
        outputs = {1: stem.permute(0, 2, 3, 1).numpy(), 3: gate.permute(0, 2, 3, 1).numpy() + 0.01,
                   5: model(images).numpy() * 2}
    errors = {error.name: error for error in layer_errors(model, net_graph(), images.numpy(), outputs)}
    assert set(errors) == {"stem", "gate", OUTPUT_NAME}
    assert errors["stem"].cosine == pytest.approx(1.0) and errors["stem"].max_abs == 0
    assert errors["gate"].max_abs == pytest.approx(0.01, abs=1e-6)
    assert errors[OUTPUT_NAME].cosine == pytest.approx(1.0)  # doubled: same direction, relative L2 of 1
    assert errors[OUTPUT_NAME].relative_l2 == pytest.approx(1.0)
    assert errors["gate"].op == "LOGISTIC" and np.isfinite(errors["gate"].relative_l2)
