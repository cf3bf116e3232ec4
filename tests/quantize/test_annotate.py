"""Int8Annotator's rules on small exported graphs (annotation only: no conversion, fast)."""

import pytest
import torch
from torch import nn

from sapool.quantize.annotate import UNIT_INTERVAL_SPEC, Int8Annotator

aten = torch.ops.aten


class Block(nn.Module):
    """conv → ReLU6 (fused), conv → clamp(-1, 1) (not a TFLite fused activation), sigmoid, * 4, avg-pool."""

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Conv2d(1, 2, 1), nn.Conv2d(2, 2, 1)

    def forward(self, x):
        y = torch.clamp(self.second(nn.functional.relu6(self.first(x))), -1, 1)
        return nn.functional.avg_pool2d(torch.sigmoid(y) * 4, 2)


@pytest.fixture(scope="module")
def annotated():
    graph = torch.export.export(Block().eval(), (torch.zeros(1, 1, 4, 4),)).module()
    annotator = Int8Annotator()
    graph = annotator.transform_for_annotation(graph)
    annotator.annotate(graph)
    return {node.name: node.meta.get("quantization_annotation") for node in graph.graph.nodes}, graph


def test_relu6_is_fused_into_its_conv_and_another_clamp_is_not(annotated):
    annotations, _ = annotated
    assert annotations["conv2d"].output_qspec is None  # observed after the ReLU6 instead
    assert annotations["relu6"].output_qspec is not None and not annotations["relu6"].input_qspec_map
    assert annotations["conv2d_1"].output_qspec is not None  # clamp(-1, 1) has no fused form
    assert annotations["clamp"].input_qspec_map


def test_sigmoid_has_the_fixed_range_and_pooling_shares_its_input(annotated):
    annotations, graph = annotated
    assert annotations["sigmoid"].output_qspec == UNIT_INTERVAL_SPEC
    pool = next(node for node in graph.graph.nodes if node.target == aten.avg_pool2d.default)
    assert type(annotations[pool.name].output_qspec).__name__ == "SharedQuantizationSpec"


def test_python_numbers_become_float_constants(annotated):
    _, graph = annotated
    mul = next(node for node in graph.graph.nodes if node.target == aten.mul.Tensor)
    constant = mul.args[1]
    assert constant.op == "get_attr" and getattr(graph, constant.target).dtype == torch.float32
    assert float(getattr(graph, constant.target)) == 4.0


class Branches(nn.Module):
    """Two branches concatenated after a pad; tanh and hardswish heads."""

    def __init__(self):
        super().__init__()
        self.left, self.right = nn.Conv2d(1, 2, 1), nn.Conv2d(1, 2, 1)

    def forward(self, x):
        joined = torch.cat([self.left(x), nn.functional.pad(self.right(x), (0, 0, 0, 0))], dim=1)
        return torch.tanh(joined) + nn.functional.hardswish(joined)


def test_concatenation_shares_one_scale_and_tanh_has_its_fixed_range():
    from sapool.quantize.annotate import SIGNED_UNIT_INTERVAL_SPEC

    graph = torch.export.export(Branches().eval(), (torch.zeros(1, 1, 4, 4),)).module()
    Int8Annotator().annotate(Int8Annotator().transform_for_annotation(graph))
    nodes = {node.name: node for node in graph.graph.nodes}
    cat = nodes["cat"].meta["quantization_annotation"]
    first, second = nodes["cat"].args[0]
    assert cat.output_qspec == cat.input_qspec_map[second]  # the second input joins the first input's scale
    assert cat.output_qspec.edge_or_node == (first, nodes["cat"])
    assert nodes["tanh"].meta["quantization_annotation"].output_qspec == SIGNED_UNIT_INTERVAL_SPEC
    assert nodes["hardswish"].meta["quantization_annotation"].output_qspec is not None
