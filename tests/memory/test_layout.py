"""The Layout: one plan that the report, the code generators and the torch-side estimate all read."""

import pytest

from sapool.ir.read import read_tflite
from sapool.memory.analyze import build_report, regions_for
from sapool.memory.layout import plan_layout
from sapool.memory.lifetimes import aligned
from sapool.targets import get_target
from tests.conftest import shared_model


def _overlap(a, b) -> bool:
    return a.offset < b.offset + aligned(b.size) and b.offset < a.offset + aligned(a.size)


def test_live_tensors_never_share_bytes_and_views_share_their_input_slot(mlperf_model):
    graph = read_tflite(mlperf_model)
    layout = plan_layout(graph, regions_for(get_target("stm32h7"), None))
    for op in graph.ops:
        live = {layout.buffer_of_tensor(i) for i in (*op.inputs, *op.outputs) if graph.is_activation(i)}
        slots = [layout.buffer_slot(b) for b in live]
        for i, a in enumerate(slots):
            assert all(a.region != b.region or not _overlap(a, b) for b in slots[i + 1:]), op
        if op.opcode == "RESHAPE" and graph.is_activation(op.inputs[0]):
            assert layout.tensor_slot(op.inputs[0]) == layout.tensor_slot(op.outputs[0])
    assert layout.fits and layout.peak_arena_bytes == layout.lower_bound_bytes


def test_scratch_gets_a_slot_apart_from_its_ops_tensors_and_raises_the_peak():
    graph = read_tflite(shared_model("kws_ref_model"))
    plain = plan_layout(graph)
    busiest = max(range(len(graph.ops)), key=plain.live_bytes.__getitem__)
    layout = plan_layout(graph, scratch={busiest: 1000})
    scratch = layout.scratch_slot(busiest)
    assert scratch is not None and scratch.size == 1000 and layout.scratch_slot(busiest - 1) is None
    op = graph.ops[busiest]
    for index in (i for i in (*op.inputs, *op.outputs) if graph.is_activation(i)):
        assert not _overlap(scratch, layout.tensor_slot(index))
    assert layout.peak_arena_bytes == plain.peak_arena_bytes + aligned(1000)


def test_report_is_rendered_from_the_layout_it_is_given():
    graph = read_tflite(shared_model("vww_96_int8"))
    target = get_target("stm32f4")
    layout = plan_layout(graph, regions_for(target, None))
    report = build_report(layout, target, model_name="vww")
    assert report.peak_arena_bytes == layout.peak_arena_bytes
    assert report.lower_bound_bytes == layout.lower_bound_bytes
    assert [row.live_bytes for row in report.layers] == layout.live_bytes
    for row in report.buffers:
        slot = layout.buffer_slot(row.id)
        assert (row.region, row.offset, row.address) == (slot.region, slot.offset, slot.address)
    assert {row.kind for row in report.buffers} == {"input", "output", "activation"}


def test_a_layout_that_does_not_fit_is_complete_and_says_so():
    graph = read_tflite(shared_model("vww_96_int8"))
    layout = plan_layout(graph, regions_for(None, 32 * 1024))
    assert not layout.fits and layout.peak_arena_bytes > 32 * 1024
    assert all(layout.tensor_slot(t.index).region == "budget" for t in graph.activations())
    with pytest.raises(KeyError):
        layout.tensor_slot(next(t.index for t in graph.tensors if t.is_constant))
