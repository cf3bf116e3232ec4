"""Structured pruning: coupled channel groups, physical removal, exactness against zeroed channels."""

import copy

import pytest
import torch
from torch import nn

from sapool.errors import BadInputError
from sapool.models.build import build_model
from sapool.models.config import POOLS, ModelConfig
from sapool.models.footprint import int8_peak_activation
from sapool.prune.channels import prune_model
from sapool.prune.groups import DEPTHWISE, NORM, OUT, channel_groups
from sapool.models.surgery import apply_channel_record

SHAPE = (1, 3, 16, 16)


class Inverted(nn.Module):
    """MobileNetV2-like: stem, expand 1×1 → depthwise 3×3 → project 1×1 + residual add, pooled classifier."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.expand = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16),
                                       nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(16, 8, 1, bias=False), nn.BatchNorm2d(8))
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Conv2d(8, 12, 1)
        self.classifier = nn.Linear(12, 5)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.project(self.depthwise(self.expand(x)))
        x = torch.relu(self.head(self.pool(x)))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def trained_like(model: nn.Module) -> nn.Module:
    """Random BN statistics and affine parameters, so that pruning mistakes change the outputs."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            count = module.num_features
            module.running_mean.copy_(torch.randn(count, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(count, generator=generator) + 0.5)
            module.weight.data.copy_(torch.randn(count, generator=generator))
            module.bias.data.copy_(torch.randn(count, generator=generator) * 0.1)
    return model.eval()


def zero_removed_channels(model: nn.Module, report) -> nn.Module:
    """The masked equivalent of a pruning: removed channels' producers (filters, biases, BN γ and β) output 0."""
    zeroed = copy.deepcopy(model)
    with torch.no_grad():
        for group in report.groups:
            removed = list(group.removed)
            for name, role in group.members:
                if role in (OUT, DEPTHWISE, NORM):
                    module = zeroed.get_submodule(name)
                    module.weight[removed] = 0
                    if module.bias is not None:
                        module.bias[removed] = 0
    return zeroed


@pytest.fixture
def model():
    torch.manual_seed(0)
    return trained_like(Inverted())


def test_groups_tie_the_residual_sum_and_the_depthwise_conv(model):
    groups = {tuple(sorted(g.modules(OUT, DEPTHWISE))): g for g in channel_groups(model, SHAPE) if g.prunable}
    assert set(groups) == {("project.0", "stem.0"), ("depthwise.0", "expand.0"), ("head",)}
    residual = groups[("project.0", "stem.0")]
    assert set(residual.modules(NORM)) == {"stem.1", "project.1"}
    assert {name for name, role in residual.members if role == "in"} == {"expand.0", "head"}
    assert set(groups[("head",)].modules("in")) == {"classifier"}


def test_pruning_removes_the_fraction_of_every_group_and_keeps_inputs_and_classes(model):
    pruned, report = prune_model(model, 0.5, "l1", input_shape=SHAPE)
    assert [(g.channels_before, len(g.kept)) for g in report.groups] == [(8, 4), (16, 8), (12, 6)]
    assert pruned.stem[0].in_channels == 3 and pruned.classifier.out_features == 5
    assert pruned.stem[0].out_channels == pruned.project[0].out_channels == pruned.expand[0].in_channels == 4
    assert pruned.depthwise[0].groups == pruned.depthwise[0].out_channels == 8
    assert pruned.classifier.in_features == 6
    assert pruned(torch.randn(2, *SHAPE[1:])).shape == (2, 5)


@pytest.mark.parametrize("criterion", ["l1", "bn"])
def test_pruned_model_equals_the_model_with_those_channels_zeroed(model, criterion):
    pruned, report = prune_model(model, 0.4, criterion, input_shape=SHAPE)
    x = torch.randn(4, *SHAPE[1:])
    with torch.no_grad():
        expected = zero_removed_channels(model, report)(x)
        torch.testing.assert_close(pruned(x), expected, atol=1e-5, rtol=0)
        assert not torch.allclose(model(x), expected, atol=1e-3)  # the removed channels did matter


def test_bn_criterion_removes_the_smallest_gammas_summed_over_the_group(model):
    with torch.no_grad():
        model.stem[1].weight.copy_(torch.tensor([1.0, 0.1, 1.0, 1.0, 1.0, 1.0, 0.2, 1.0]))
        model.project[1].weight.copy_(torch.tensor([1.0, 0.1, 1.0, -0.05, 1.0, 1.0, 0.2, 1.0]))
    _, report = prune_model(model, 0.25, "bn", input_shape=SHAPE)
    assert report.groups[0].removed == (1, 6)  # |γ| sums 0.2 and 0.4; channel 3 sums 1.05


def test_l1_criterion_removes_the_weakest_filters(model):
    with torch.no_grad():
        model.head.weight[[2, 7]] *= 1e-3
    _, report = prune_model(model, 2 / 12, "l1", input_shape=SHAPE)
    assert report.groups[-1].removed == (2, 7)


def test_channel_record_rebuilds_the_architecture_for_the_state_dict(model):
    pruned, report = prune_model(model, 0.5, "l1", input_shape=SHAPE)
    rebuilt = apply_channel_record(trained_like(Inverted()), report.channel_record)
    rebuilt.load_state_dict(pruned.state_dict())
    x = torch.randn(2, *SHAPE[1:])
    with torch.no_grad():
        torch.testing.assert_close(rebuilt.eval()(x), pruned(x))


def test_bad_record_entry_is_bad_input(model):
    with pytest.raises(BadInputError, match="nope"):
        apply_channel_record(model, {"nope": {"features": 3}})


def test_input_model_is_not_modified(model):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    prune_model(model, 0.5, "l1", input_shape=SHAPE)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("ratio, criterion", [(1.0, "l1"), (-0.1, "l1"), (0.5, "l2")])
def test_bad_ratio_or_criterion_is_bad_input(model, ratio, criterion):
    with pytest.raises(BadInputError):
        prune_model(model, ratio, criterion, input_shape=SHAPE)


@pytest.mark.parametrize("network, shape", [
    (Inverted, SHAPE),
    (lambda: build_model(ModelConfig(arch="mcunet", pool="lip", width=0.5, input_size=64)), (1, 1, 64, 64)),
], ids=["inverted", "mcunet-lip"])
def test_footprint_shrinks_with_the_ratio(network, shape):
    torch.manual_seed(0)
    model = trained_like(network())
    peaks = [int8_peak_activation(prune_model(model, r, input_shape=shape)[0], shape).peak_arena_bytes
             for r in (0.0, 0.25, 0.5, 0.75)]
    assert peaks == sorted(peaks, reverse=True) and peaks[0] > peaks[-1]


PROJECT_NETWORKS = [
    *(ModelConfig(arch="mcunet", pool=pool, width=0.5, input_size=64) for pool in POOLS),
    *(ModelConfig(arch=arch, pool=pool, width=0.25, downsample="standard", input_size=32)
      for arch in ("mbv2", "resnet18") for pool in POOLS),
]


@pytest.mark.parametrize("config", PROJECT_NETWORKS, ids=lambda c: f"{c.arch}-{c.pool}")
def test_project_networks_prune_exactly_with_every_pooling(config):
    torch.manual_seed(0)
    network = trained_like(build_model(config))
    pruned, report = prune_model(network, 0.5, "l1", input_shape=config)
    assert report.frozen_groups == 2  # only the image channels and the class logits stay whole
    assert all(len(g.kept) == g.channels_before - round(0.5 * g.channels_before) for g in report.groups)
    x = torch.randn(2, config.in_channels, config.input_size, config.input_size)
    with torch.no_grad():
        torch.testing.assert_close(pruned(x), zero_removed_channels(network, report)(x), atol=1e-5, rtol=0)
    assert sum(p.numel() for p in pruned.parameters()) < 0.5 * sum(p.numel() for p in network.parameters())


def test_residual_sums_in_resnet18_are_one_group_per_stage():
    config = ModelConfig(arch="resnet18", pool="max", width=0.25, downsample="standard", input_size=32)
    groups = [g for g in channel_groups(build_model(config).eval(), (1, 1, 32, 32)) if g.prunable]
    stream_groups = [g for g in groups if len(g.modules(OUT)) > 1]
    assert len(stream_groups) == 4  # each stage's sum ties its first producer and every block's last conv
    assert all(len(g.modules(OUT)) >= 3 for g in stream_groups)


def test_sap_network_footprint_shrinks_but_attention_scores_remain():
    config = ModelConfig(arch="mcunet", pool="sap", input_size=64)
    network = build_model(config).eval()
    peaks = [int8_peak_activation(prune_model(network, r, input_shape=config)[0], config,
                                  patches="off").peak_arena_bytes for r in (0.0, 0.5)]
    assert peaks[1] < peaks[0]
    assert peaks[1] >= 2 * 64 * 64  # the first SAP layer's 2 heads × 64² scores (SOFTMAX writes over them in place)


@pytest.mark.parametrize("record, message", [
    ({"no.such.module": {"out": 1}}, "does not have"),
    ({"stem.conv.conv": {"out": -3, "in": 1, "groups": 1}}, "between 1 and"),
    ({"stem.conv.conv": {"out": 10 ** 9, "in": 1, "groups": 1}}, "between 1 and"),
    ({"stem.conv.conv": {"out": "8", "in": 1, "groups": 1}}, "whole number"),
    ({"stem.conv.conv": [1, 2]}, "table of sizes"),
    (["stem.conv.conv"], "table of module names"),
])
def test_a_garbage_pruning_record_is_refused_before_building(record, message):
    from sapool.models.surgery import apply_channel_record

    model = build_model(ModelConfig(width=0.25, pool="max"))
    with pytest.raises(BadInputError, match=message):
        apply_channel_record(model, record)
