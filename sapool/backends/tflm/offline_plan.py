"""sapool's memory plan as TFLite-Micro's offline memory plan, embedded in the .tflite itself.

TFLite-Micro's allocator looks for a model metadata entry named "OfflineMemoryAllocation". Its buffer is a list of
little-endian int32: [format version (1), number of subgraphs, n = number of tensors of all subgraphs together,
then one entry per tensor in subgraph order: its byte offset from the start of the arena's head (the activation
area), or -1 to let TFLM's own greedy planner place it]. TFLM checks only that n equals its tensor count; it
does not check that offline-placed tensors live at different times, so the plan must be right (sapool's is
checked by `sapool.memory.check`) and TFLM's lifetime rules must be no wider than sapool's (they are the same:
an op's inputs and outputs live together; graph inputs from the start, outputs to the end).

What a TFLM user gains, with no code change: the arena head becomes sapool's arena (vww_96_int8: 55,296 B instead
of TFLM's 73,728 B), and a view op (RESHAPE, EXPAND_DIMS) whose output gets its input's offset stops copying,
because TFLM's kernels skip the copy when both tensors have the same address.

Offsets come from the Layout (`Layout.tensor_slot`). A TFLM arena is one block, so a layout split over several
RAM regions (or aligned to less than TFLM's 16 bytes) is re-planned as one arena for the offline plan. Variable
tensors get -1: TFLM keeps them in its persistent tail whatever the plan says. Flatbuffer editing goes through
LiteRT's schema object API (`flatbuffer_utils`), not byte surgery.
"""

from __future__ import annotations

import numpy as np

from sapool.ir.graph import Graph
from sapool.memory.layout import Layout, plan_layout
from sapool.memory.lifetimes import aligned

METADATA_NAME = "OfflineMemoryAllocation"
FORMAT_VERSION = 1
ONLINE = -1  # "TFLM, place this tensor yourself"
TFLM_ALIGNMENT = 16  # MicroArenaBufferAlignment(): the head's start and every online buffer


def single_arena_layout(layout: Layout, graph: Graph) -> Layout:
    """`layout` if it is one arena of `graph` TFLM can use as its head; otherwise `graph` re-planned as one arena.

    TFLM's kernels are not written to run in place, so a layout with in-place ops is re-planned without them, and
    a layout of the C backend's fused graph (whose inner tensors have no place) is re-planned for `graph`.
    """
    used = [use for use in layout.regions if use.buffer_ids]
    if (len(used) <= 1 and layout.alignment % TFLM_ALIGNMENT == 0 and not layout.in_place_ops
            and layout.graph is graph):
        return layout
    return plan_layout(graph, planner=layout.planner, alignment=TFLM_ALIGNMENT, in_place=False)


def tensor_offsets(graph: Graph, layout: Layout) -> list[int]:
    """One entry per tensor of subgraph 0: its arena offset in `layout`, or ONLINE (constants, variables, unused)."""
    offsets = []
    for tensor in graph.tensors:
        buffer_id = layout.buffer_of_tensor(tensor.index)
        placed = buffer_id is not None and not tensor.is_variable and tensor.nbytes > 0
        offsets.append(layout.buffer_slot(buffer_id).offset if placed else ONLINE)
    return offsets


def head_bytes(graph: Graph, offsets: list[int]) -> int:
    """The arena head TFLM derives from the plan: the end of the highest offline-placed tensor, 16-byte aligned."""
    ends = [offset + graph.tensor(index).nbytes for index, offset in enumerate(offsets) if offset != ONLINE]
    return aligned(max(ends, default=0), TFLM_ALIGNMENT)


def embed_offline_plan(tflite: bytes, offsets: list[int]) -> bytes:
    """`tflite` with `offsets` (subgraph 0's tensors) as its OfflineMemoryAllocation; other subgraphs get ONLINE.

    Any earlier offline plan is replaced.
    """
    from ai_edge_litert import schema_py_generated as schema

    model = _model_object(tflite)
    counts = [len(subgraph.tensors or []) for subgraph in model.subgraphs]
    if len(offsets) != counts[0]:
        raise ValueError(f"{len(offsets)} offsets for a subgraph of {counts[0]} tensors")
    entries = [FORMAT_VERSION, len(counts), sum(counts), *offsets, *[ONLINE] * sum(counts[1:])]
    buffer = schema.BufferT()
    buffer.data = np.asarray(entries, dtype="<i4").view(np.uint8)
    _drop_offline_plan(model)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return _serialise(model)


def strip_offline_plan(tflite: bytes) -> bytes:
    """`tflite` without an OfflineMemoryAllocation entry (unchanged bytes when it has none)."""
    model = _model_object(tflite)
    if not _drop_offline_plan(model):
        return tflite
    return _serialise(model)


def read_offline_plan(tflite: bytes) -> list[int] | None:
    """The per-tensor offsets of the model's offline plan (all subgraphs), or None when it has none."""
    model = _model_object(tflite)
    for entry in model.metadata or []:
        if _name(entry) == METADATA_NAME:
            words = np.asarray(model.buffers[entry.buffer].data, np.uint8).view("<i4")
            return words[3:3 + words[2]].tolist()
    return None


def _drop_offline_plan(model) -> bool:
    """Remove the plan's metadata entries from the ModelT; their buffers are emptied (indices stay valid)."""
    kept, dropped = [], False
    for entry in model.metadata or []:
        if _name(entry) == METADATA_NAME:
            model.buffers[entry.buffer].data = None
            dropped = True
        else:
            kept.append(entry)
    model.metadata = kept or None
    return dropped


def _name(entry) -> str:
    name = entry.name
    return name.decode() if isinstance(name, bytes) else str(name)


def _model_object(tflite: bytes):
    from ai_edge_litert.tools import flatbuffer_utils

    return flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite))


def _serialise(model) -> bytes:
    from ai_edge_litert.tools import flatbuffer_utils

    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))
