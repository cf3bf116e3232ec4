"""check_supported, scratch_needs and generate on real graphs (the shared MLPerf models), without building."""

from __future__ import annotations

import dataclasses

import pytest

from sapool.backends.c import check_supported, generate, scratch_needs
from sapool.errors import UnsupportedError
from sapool.ir.read import read_tflite
from sapool.memory.layout import plan_layout
from tests.conftest import shared_model


@pytest.fixture(scope="module")
def kws():
    return read_tflite(shared_model("kws_ref_model"))


@pytest.fixture(scope="module")
def resnet():
    return read_tflite(shared_model("pretrainedResnet_quant"))


def test_an_op_without_kernel_is_named_with_its_index(kws):
    ops = list(kws.ops)
    ops[3] = dataclasses.replace(ops[3], opcode="CUSTOM:fancy")
    graph = dataclasses.replace(kws, ops=ops)
    with pytest.raises(UnsupportedError, match=r"op 3 \(CUSTOM:fancy\) has no kernel"):
        check_supported(graph)
    with pytest.raises(UnsupportedError, match=r"op 3"):
        generate(graph, plan_layout(kws, scratch=scratch_needs(kws)))


def test_an_op_the_kernel_cannot_do_exactly_is_refused(kws):
    ops = list(kws.ops)
    ops[1] = dataclasses.replace(ops[1], options=dataclasses.replace(ops[1].options, activation="TANH"))
    with pytest.raises(UnsupportedError, match=r"op 1 \(DEPTHWISE_CONV_2D\): fused activation TANH"):
        check_supported(dataclasses.replace(kws, ops=ops))


def test_graph_outputs_of_other_types_are_refused_by_name(kws):
    tensors = list(kws.tensors)
    output = kws.outputs[0]
    tensors[output] = dataclasses.replace(tensors[output], dtype="uint8")
    with pytest.raises(UnsupportedError, match=rf"graph output '{tensors[output].name}' is uint8"):
        check_supported(dataclasses.replace(kws, tensors=tuple(tensors)))


def test_scratch_is_one_im2col_patch_for_each_non_pointwise_conv_two_for_few_input_channels(resnet, kws):
    # kernel rows of fewer than 16 bytes (first layers): the arm kernel gathers two windows at a time
    assert scratch_needs(kws) == {0: 2 * 10 * 4 * 1}
    # resnet: 3x3 convs over 3, 16, 16, 16, 32, 32, 64 input channels; the 1x1 shortcut convs need none
    assert scratch_needs(resnet) == {0: 2 * 27, 1: 144, 2: 144, 4: 144, 5: 288, 8: 288, 9: 576}


def test_views_generate_no_copy_when_planned_in_place(kws):
    layout = plan_layout(kws, scratch=scratch_needs(kws))
    model_c = generate(kws, layout)["model/model.c"]
    reshape = kws.ops[10]
    assert layout.tensor_slot(reshape.inputs[0]) == layout.tensor_slot(reshape.outputs[0])
    comment = model_c[model_c.index("/* layer 10: RESHAPE, tflite operator 10"):model_c.index("SAPOOL_LAYER_BEGIN(10)")]
    assert "view: shares its input's bytes */" in comment
    assert "memmove" not in model_c


def test_only_the_kernels_used_are_shipped(kws):
    files = generate(kws, plan_layout(kws, scratch=scratch_needs(kws)))
    assert sorted(path for path in files if path.startswith("kernels/reference/")) == [
        "kernels/reference/conv.c", "kernels/reference/depthwise_conv.c", "kernels/reference/fully_connected.c",
        "kernels/reference/pool.c", "kernels/reference/softmax.c",
    ]
