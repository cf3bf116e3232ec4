"""The OfflineMemoryAllocation plan: its format, the offsets it carries, and that TFLite-Micro follows it."""

import numpy as np
import pytest

from sapool.backends.tflm.offline_plan import (
    ONLINE, embed_offline_plan, head_bytes, read_offline_plan, single_arena_layout, strip_offline_plan,
    tensor_offsets)
from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import plan_layout
from sapool.targets import Region
from sapool.verify.interpreters import run_model, smallest_tflm_arena
from tests.verify.int8_models import random_inputs, tiny_int8_bytes

TINY = tiny_int8_bytes()
GRAPH = read_tflite_bytes(TINY, "tiny")  # tensors: 0 input, 3 conv out, 5 reshape out, 8 output; rest constants


def metadata_words(model: bytes) -> np.ndarray:
    from ai_edge_litert.tools import flatbuffer_utils

    fb = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    (entry,) = [m for m in fb.metadata if m.name in (b"OfflineMemoryAllocation", "OfflineMemoryAllocation")]
    return np.asarray(fb.buffers[entry.buffer].data, np.uint8).view("<i4")


def test_offsets_alias_the_reshape_and_leave_constants_to_tflm():
    offsets = tensor_offsets(GRAPH, plan_layout(GRAPH, in_place=False))
    assert len(offsets) == len(GRAPH.tensors)
    assert [i for i, offset in enumerate(offsets) if offset != ONLINE] == [0, 3, 5, 8]
    assert offsets[5] == offsets[3]  # RESHAPE output at its input's offset: TFLM then skips the copy
    assert all(offset % 16 == 0 for offset in offsets if offset != ONLINE)
    assert head_bytes(GRAPH, offsets) == plan_layout(GRAPH).peak_arena_bytes


def test_the_metadata_buffer_has_tflm_s_format():
    offsets = tensor_offsets(GRAPH, plan_layout(GRAPH, in_place=False))
    words = metadata_words(embed_offline_plan(TINY, offsets))
    assert words[:3].tolist() == [1, 1, len(GRAPH.tensors)]  # version, subgraphs, number of offsets
    assert words[3:].tolist() == offsets


def test_embedding_twice_replaces_and_strip_removes():
    first = embed_offline_plan(TINY, [ONLINE] * len(GRAPH.tensors))
    offsets = tensor_offsets(GRAPH, plan_layout(GRAPH, in_place=False))
    second = embed_offline_plan(first, offsets)
    assert read_offline_plan(second) == offsets
    assert read_offline_plan(strip_offline_plan(second)) is None
    assert strip_offline_plan(TINY) == TINY
    with pytest.raises(ValueError, match="3 offsets for a subgraph of 9 tensors"):
        embed_offline_plan(TINY, [0, 0, 0])


def test_a_layout_split_over_regions_is_replanned_as_one_arena():
    split = plan_layout(GRAPH, [Region("fast", 0x20000000, 1024, "data"), Region("slow", 0x30000000, 1024, "data")])
    assert sum(1 for use in split.regions if use.buffer_ids) == 2
    single = single_arena_layout(split, GRAPH)
    assert sum(1 for use in single.regions if use.buffer_ids) == 1 and not single.in_place_ops
    assert single_arena_layout(single, GRAPH) is single


def test_tflm_runs_the_plan_with_the_same_outputs_and_sapool_s_head():
    offsets = tensor_offsets(GRAPH, plan_layout(GRAPH, in_place=False))
    planned = embed_offline_plan(TINY, offsets)
    inputs = random_inputs((16, 16, 2), 8)
    np.testing.assert_array_equal(run_model(planned, inputs, "tflm").outputs, run_model(TINY, inputs, "tflm").outputs)
    # TFLM's own plan copies the reshape (conv out and flat both live at op 1); the offline plan does not
    assert smallest_tflm_arena(planned) < smallest_tflm_arena(TINY)
