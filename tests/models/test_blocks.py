import pytest
import torch
from torch import nn

from sapool.errors import BadInputError
from sapool.models.blocks import check_input_size, conv_bn, global_average_pool, make_divisible, total_stride


def test_conv_bn_names_and_shapes():
    unit = conv_bn(8, 16, 3, 2, groups=8, act=nn.ReLU6)
    assert list(dict(unit.named_children())) == ["conv", "bn", "act"]
    assert unit.conv.bias is None and unit.conv.padding == (1, 1) and unit.conv.groups == 8
    assert unit.bn.num_features == 16
    assert list(dict(conv_bn(4, 4, 2, 2, padding=0).named_children())) == ["conv", "bn"]


def test_even_kernels_at_stride_two_halve_the_map_like_tflite_same():
    unit = conv_bn(1, 8, 4, 2)
    assert unit.conv.padding == (1, 1)  # SAME pads (4 - 2) / 2 = 1 on each side of an even map: no PAD op
    assert unit(torch.zeros(1, 1, 64, 64)).shape == (1, 8, 32, 32)


@pytest.mark.parametrize("value,expected", [(32 * 0.35, 16), (16 * 0.5, 8), (24 * 0.35, 8), (320 * 0.5, 160), (3, 8)])
def test_make_divisible(value, expected):
    assert make_divisible(value) == expected


def test_input_size_check():
    assert total_stride(2, "4222121") == 128
    check_input_size("mbv2", "aggressive", 256, 128)
    with pytest.raises(BadInputError, match="multiple of 128; got 192"):
        check_input_size("mbv2", "aggressive", 192, 128)


def test_global_pool_disappears_on_a_one_pixel_map():
    assert isinstance(global_average_pool(1), nn.Identity)
    assert isinstance(global_average_pool(2), nn.AdaptiveAvgPool2d)
