import pytest
import torch
import torch.nn.functional as F

from sapool.errors import BadInputError
from sapool.models.config import POOLS, ModelConfig
from sapool.models.pooling import LIPool, make_pool, stage_pool
from sapool.models.sap import SAPool


def pool_of(kind: str, channels: int, stride: int, size: int):
    if kind in ("sap", "sap-nowin"):
        return make_pool(kind, channels, stride, input_size=size, patch_size=max(1, stride // 2))
    return make_pool(kind, channels, stride)


@pytest.mark.parametrize("stride", [2, 4])
@pytest.mark.parametrize("kind", POOLS)
def test_every_pool_maps_chw_to_strided_chw_and_passes_gradients(kind, stride):
    torch.manual_seed(0)
    pool = pool_of(kind, 6, stride, 16).train()
    x = torch.randn(2, 6, 16, 16, requires_grad=True)
    y = pool(x)
    assert y.shape == (2, 6, 16 // stride, 16 // stride)
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad.abs().sum() > 0
    for name, parameter in pool.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, f"{kind}: {name}"


@pytest.mark.parametrize("kind,expected", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
def test_fixed_pools_are_the_torch_operators(kind, expected):
    x = torch.randn(1, 3, 8, 8)
    torch.testing.assert_close(make_pool(kind, 3, 2)(x), expected(x, 2))


def test_strided_pool_is_a_depthwise_stride_sized_conv_with_bn():
    pool = make_pool("strided", 5, 4)
    assert pool.conv.groups == 5 and pool.conv.kernel_size == (4, 4) and pool.conv.stride == (4, 4)
    assert pool.bn.num_features == 5


def test_lip_is_the_exp_logit_weighted_average():
    torch.manual_seed(1)
    lip = LIPool(4, 2).eval()
    x = torch.randn(2, 4, 8, 8)
    weight = torch.exp(torch.sigmoid(lip.logit.bn(lip.logit.conv(x))))
    expected = F.avg_pool2d(x * weight, 2) / F.avg_pool2d(weight, 2)
    torch.testing.assert_close(lip(x), expected, atol=1e-6, rtol=1e-5)


def test_unknown_kind_and_misplaced_options_are_rejected():
    with pytest.raises(BadInputError, match="pooling kind"):
        make_pool("gaussian", 4, 2)
    with pytest.raises(BadInputError, match="no SAP options"):
        make_pool("max", 4, 2, patch_size=2)
    with pytest.raises(BadInputError):
        make_pool("avg", 4, 0)


@pytest.mark.parametrize("pool,stride,expected_patch", [("sap", 4, 2), ("sap", 2, 1), ("sap-nowin", 4, 4),
                                                        ("sap-nowin", 2, 4)])
def test_stage_pool_takes_sap_options_from_the_config(pool, stride, expected_patch):
    config = ModelConfig(pool=pool, sap_heads=4, sap_embed_ratio=0.5)
    layer = stage_pool(config, 16, stride, 32, paper_patch=4)
    assert isinstance(layer, SAPool)
    assert layer.patch_size == expected_patch and layer.normalized == (pool == "sap")
    assert layer.attention.heads == 4 and layer.embed_dim == 8
    assert layer.pos_embed.weight.shape == ((32 // expected_patch) ** 2, 8)
