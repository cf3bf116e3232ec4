import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sapool.errors import BadInputError
from sapool.models.sap import (EXP_POLY_DEGREE, ExpUnitInterval, SAPool, SelfAttention, WindowSoftmaxPool,
                               patch_size_for, sap_form, set_export_form, set_sap_form)

# (channels, size, stride, patch, heads, embed_ratio)
GEOMETRIES = [(6, 16, 2, 1, 2, 1.0), (6, 16, 4, 2, 2, 1.0), (5, 16, 4, 1, 1, 1.0), (8, 16, 4, 4, 2, 0.5),
              (4, 16, 2, 4, 2, 1.0), (3, 8, 2, 2, 3, 2.0), (8, 32, 4, 2, 4, 1.0), (6, 16, 2, 8, 2, 1.0)]


def randomized(module: nn.Module) -> nn.Module:
    """Non-trivial BN statistics and affine terms, so BN is not near-identity."""
    generator = torch.Generator().manual_seed(1)
    for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
        n = bn.num_features
        bn.running_mean.copy_(torch.randn(n, generator=generator) * 0.3)
        bn.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
        bn.weight.data.copy_(torch.randn(n, generator=generator))
        bn.bias.data.copy_(torch.randn(n, generator=generator))
    return module


@pytest.mark.parametrize("normalized", [True, False])
@pytest.mark.parametrize("channels,size,stride,patch,heads,ratio", GEOMETRIES)
def test_paper_and_export_forms_are_equal(normalized, channels, size, stride, patch, heads, ratio):
    torch.manual_seed(channels * 100 + patch * 10 + stride)
    sap = randomized(SAPool(channels, stride, size, patch, heads=heads, embed_ratio=ratio,
                            normalized=normalized)).eval()
    x = torch.randn(3, channels, size, size) * 2
    paper = sap(x)
    set_export_form(sap)
    export = sap(x)
    assert export.shape == (3, channels, size // stride, size // stride)
    assert (paper - export).abs().max().item() <= 1e-5


@pytest.mark.parametrize("normalized", [True, False])
def test_forms_are_equal_in_training_mode_too(normalized):
    # BN batch statistics of a nearest-upsampled map equal those of the map at patch resolution
    torch.manual_seed(3)
    sap = SAPool(6, 4, 16, 2, normalized=normalized).train()
    x = torch.randn(4, 6, 16, 16)
    paper = sap(x)
    with sap_form(sap, "export"):
        export = sap(x)
    torch.testing.assert_close(paper, export, atol=1e-5, rtol=1e-5)


def direct_sap(sap: SAPool, x: torch.Tensor) -> torch.Tensor:
    """DESIGN.md §3 step by step with loops and the module's parameters only (eval-mode BN)."""
    n, c, height, width = x.shape
    p, s, heads = sap.patch_size, sap.stride, sap.attention.heads

    def bn(values, layer):  # values: (..., features)
        return (values - layer.running_mean) / torch.sqrt(layer.running_var + layer.eps) * layer.weight + layer.bias

    embed_conv, embed_bn = sap.patch_embed.conv, sap.patch_embed.bn
    rows, cols = height // p, width // p
    out = torch.empty_like(x)
    result = torch.empty(n, c, height // s, width // s, dtype=x.dtype)
    for b in range(n):
        # 1. patch embedding (conv kernel = stride = p) + BN + ReLU; 2. tokens in row-major order + position embedding
        tokens = torch.stack([
            torch.relu(bn(torch.einsum("ecij,cij->e", embed_conv.weight, x[b, :, i * p:(i + 1) * p, j * p:(j + 1) * p]),
                          embed_bn))
            for i in range(rows) for j in range(cols)])
        tokens = tokens + sap.pos_embed.weight
        # 3. multi-head self-attention; q's parameters carry the 1/sqrt(d) factor, so undo it to write the textbook form
        att = sap.attention
        d = att.head_dim
        q_true = (tokens @ att.q.weight.T + att.q.bias) * math.sqrt(d)
        k = tokens @ att.k.weight.T + att.k.bias
        v = tokens @ att.v.weight.T + att.v.bias
        head_outputs = []
        for h in range(heads):
            cols_h = slice(h * d, (h + 1) * d)
            weights = torch.softmax(q_true[:, cols_h] @ k[:, cols_h].T / math.sqrt(d), dim=-1)
            head_outputs.append(weights @ v[:, cols_h])
        attended = torch.cat(head_outputs, dim=1) @ att.out.weight.T + att.out.bias  # L×E
        # 4. nearest upsampling: pixel (y, x) takes token (y // p, x // p); 5. 1×1 conv + BN + sigmoid
        restore_conv, restore_bn = sap.restore.conv, sap.restore.bn
        for yy in range(height):
            for xx in range(width):
                token = attended[(yy // p) * cols + xx // p]
                out[b, :, yy, xx] = torch.sigmoid(bn(restore_conv.weight[:, :, 0, 0] @ token, restore_bn))
        # 6. w = exp(m); window-normalised (or not) average over each s×s window
        w = torch.exp(out[b])
        for i in range(height // s):
            for j in range(width // s):
                xs = x[b, :, i * s:(i + 1) * s, j * s:(j + 1) * s]
                ws = w[:, i * s:(i + 1) * s, j * s:(j + 1) * s]
                pooled = (xs * ws).mean(dim=(1, 2))
                result[b, :, i, j] = pooled / ws.mean(dim=(1, 2)) if sap.normalized else pooled
    return result


@pytest.mark.parametrize("form", ["paper", "export"])
@pytest.mark.parametrize("normalized,stride,patch,heads", [(True, 4, 2, 2), (True, 2, 1, 1), (False, 2, 2, 2),
                                                            (False, 4, 1, 2), (False, 2, 4, 2)])
def test_matches_a_direct_implementation_of_the_equations(form, normalized, stride, patch, heads):
    torch.manual_seed(5)
    sap = randomized(SAPool(4, stride, 8, patch, heads=heads, normalized=normalized, form=form)).double().eval()
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    expected = direct_sap(sap, x)
    assert expected.shape == (2, 4, 8 // stride, 8 // stride)
    torch.testing.assert_close(sap(x), expected, atol=1e-6 if form == "export" else 1e-10, rtol=0)


@pytest.mark.parametrize("form", ["paper", "export"])
@pytest.mark.parametrize("patch", [2, 4])
def test_normalised_variant_with_patch_at_least_stride_is_average_pooling(form, patch):
    torch.manual_seed(7)
    sap = randomized(SAPool(6, 2, 16, patch, normalized=True, form=form)).eval()
    assert sap.degenerate
    x = torch.randn(2, 6, 16, 16)
    torch.testing.assert_close(sap(x), F.avg_pool2d(x, 2), atol=1e-6, rtol=1e-6)


def test_nowin_at_patch_equal_stride_is_a_learned_gain_between_one_and_e():
    torch.manual_seed(8)
    sap = randomized(SAPool(6, 4, 16, 4, normalized=False)).eval()
    x = torch.rand(2, 6, 16, 16) + 0.1
    gain = sap(x) / F.avg_pool2d(x, 4)
    assert gain.min() > 1.0 and gain.max() < math.e
    assert gain.std() > 1e-3  # not a constant: the attention shapes it


@pytest.mark.parametrize("form", ["paper", "export"])
@pytest.mark.parametrize("normalized,stride,patch", [(True, 4, 2), (True, 2, 1), (False, 2, 2), (False, 2, 4),
                                                     (False, 4, 2)])
def test_gradients_reach_every_parameter_and_the_input(form, normalized, stride, patch):
    torch.manual_seed(9)
    sap = SAPool(6, stride, 16, patch, normalized=normalized, form=form).train()
    x = torch.randn(2, 6, 16, 16, requires_grad=True)
    (sap(x) * torch.randn(2, 6, 16 // stride, 16 // stride)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, parameter in sap.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_self_attention_equals_torch_multihead_attention():
    torch.manual_seed(10)
    attention = SelfAttention(8, 2, num_tokens=5)
    for linear in (attention.q, attention.k, attention.v, attention.out):
        nn.init.normal_(linear.bias)
    reference = nn.MultiheadAttention(8, 2, batch_first=True)
    scale = math.sqrt(attention.head_dim)  # the module folds 1/sqrt(d) into q
    with torch.no_grad():
        reference.in_proj_weight.copy_(torch.cat([attention.q.weight * scale, attention.k.weight, attention.v.weight]))
        reference.in_proj_bias.copy_(torch.cat([attention.q.bias * scale, attention.k.bias, attention.v.bias]))
        reference.out_proj.weight.copy_(attention.out.weight)
        reference.out_proj.bias.copy_(attention.out.bias)
    tokens = torch.randn(3, 5, 8)
    expected, _ = reference(tokens, tokens, tokens)
    torch.testing.assert_close(attention(tokens), expected, atol=1e-6, rtol=1e-5)


def test_window_softmax_pool_is_the_exp_weighted_window_average():
    torch.manual_seed(11)
    x, m = torch.randn(2, 3, 8, 12), torch.randn(2, 3, 8, 12)
    expected = F.avg_pool2d(x * torch.exp(m), 4) / F.avg_pool2d(torch.exp(m), 4)
    torch.testing.assert_close(WindowSoftmaxPool(4)(x, m), expected, atol=1e-6, rtol=1e-5)


def test_exp_polynomial_error_on_the_unit_interval():
    m = torch.linspace(0, 1, 10001, dtype=torch.float64)
    error = (ExpUnitInterval()(m) - torch.exp(m)).abs().max().item()
    assert EXP_POLY_DEGREE == 6 and error < 5e-8


def test_export_form_traces_with_torch_fx():
    torch.manual_seed(12)
    sap = SAPool(6, 4, 16, 2, form="export").eval()
    traced = torch.fx.symbolic_trace(sap)
    assert not any(node.target is torch.exp for node in traced.graph.nodes)
    x = torch.randn(1, 6, 16, 16)
    torch.testing.assert_close(traced(x), sap(x))


@pytest.mark.parametrize("normalized,patch", [(True, 2), (False, 4), (False, 2)])
def test_export_form_is_done_with_the_full_resolution_input_before_the_attention(normalized, patch):
    # x is the largest tensor: the export graph reads it (patch embedding, patch means) before any attention op
    graph = torch.fx.symbolic_trace(SAPool(8, 4, 16, patch, normalized=normalized, form="export")).graph
    nodes = list(graph.nodes)
    x = next(node for node in nodes if node.op == "placeholder")
    last_use_of_x = max(nodes.index(user) for user in x.users)
    first_matmul = min(i for i, node in enumerate(nodes) if node.target is torch.bmm)
    assert last_use_of_x < first_matmul


@pytest.mark.parametrize("paper,stride,size,normalized,expected", [
    (4, 2, 32, True, 1), (4, 4, 32, True, 2), (2, 4, 32, True, 2), (1, 2, 8, True, 1),
    (4, 2, 32, False, 4), (4, 4, 32, False, 4), (4, 4, 2, False, 2), (4, 2, 8, False, 4)])
def test_patch_size_for_follows_the_paper_within_validity(paper, stride, size, normalized, expected):
    assert patch_size_for(paper, stride, size, normalized) == expected


def test_form_switching_and_restoring():
    model = nn.Sequential(SAPool(4, 2, 8, 1), SAPool(4, 2, 4, 1, form="export"))
    with sap_form(model, "export"):
        assert [m.form for m in model] == ["export", "export"]
    assert [m.form for m in model] == ["paper", "export"]
    set_sap_form(model, "paper")
    assert [m.form for m in model] == ["paper", "paper"]
    with pytest.raises(BadInputError):
        set_sap_form(model, "int8")


@pytest.mark.parametrize("kwargs", [dict(stride=3, patch_size=2), dict(stride=2, patch_size=3),
                                    dict(stride=4, patch_size=2, input_size=6), dict(stride=2, patch_size=1, heads=0)])
def test_bad_geometry_is_rejected(kwargs):
    arguments = dict(channels=4, input_size=8) | kwargs
    with pytest.raises(BadInputError):
        SAPool(**arguments)



def prune_conv(conv: nn.Conv2d, keep_in: torch.Tensor, keep_out: torch.Tensor) -> None:
    conv.weight = nn.Parameter(conv.weight.detach()[keep_out][:, keep_in])
    conv.in_channels, conv.out_channels = len(keep_in), len(keep_out)


def prune_bn(bn: nn.BatchNorm2d, keep: torch.Tensor) -> None:
    bn.weight, bn.bias = nn.Parameter(bn.weight.detach()[keep]), nn.Parameter(bn.bias.detach()[keep])
    bn.running_mean, bn.running_var = bn.running_mean[keep], bn.running_var[keep]
    bn.num_features = len(keep)


def prune_linear(linear: nn.Linear, keep_in: torch.Tensor, keep_out: torch.Tensor) -> None:
    linear.weight = nn.Parameter(linear.weight.detach()[keep_out][:, keep_in])
    linear.bias = nn.Parameter(linear.bias.detach()[keep_out])
    linear.in_features, linear.out_features = len(keep_in), len(keep_out)


def test_documented_channel_sets_can_be_pruned():
    """Shrink C (4 → 3), E (8 → 6) and the attention width (8 → 4, two per head) as the docstring groups them."""
    torch.manual_seed(13)
    sap = randomized(SAPool(4, 4, 16, 2, heads=2, embed_ratio=2.0)).eval()
    channels, embed, inner = torch.tensor([0, 1, 3]), torch.tensor([0, 1, 2, 4, 5, 7]), torch.tensor([0, 1, 4, 5])
    prune_conv(sap.patch_embed.conv, channels, embed)
    prune_bn(sap.patch_embed.bn, embed)
    sap.pos_embed.weight = nn.Parameter(sap.pos_embed.weight.detach()[:, embed])
    for linear in (sap.attention.q, sap.attention.k, sap.attention.v):
        prune_linear(linear, embed, inner)
    prune_linear(sap.attention.out, inner, embed)
    prune_conv(sap.restore.conv, embed, channels)
    prune_bn(sap.restore.bn, channels)
    assert (sap.channels, sap.embed_dim, sap.attention.head_dim) == (3, 6, 2)
    x = torch.randn(2, 3, 16, 16)
    paper = sap(x)
    with sap_form(sap, "export"):
        export = sap(x)
    assert paper.shape == (2, 3, 4, 4)
    torch.testing.assert_close(paper, export, atol=1e-5, rtol=1e-5)
