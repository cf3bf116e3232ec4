"""Patch stages: stage detection, receptive fields, recompute, the automatic choice and the independent check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sapool.errors import VerificationError
from sapool.ir.graph import Graph, Op, Tensor
from sapool.ir.options import Conv2DOptions, Pool2DOptions
from sapool.ir.read import read_tflite, read_tflite_bytes
from sapool.passes.check_patches import check_patch_stages
from sapool.passes.patch_choice import choose_patches
from sapool.passes.patches import Window, expand, patched_macs, rewrite, stage_runs, stages, unpatched_macs
from tests.backends.c.stage_models import build_stage_model, build_terminal_stage_model
from tests.conftest import shared_model

ENOUGH = 1 << 20  # scratch bytes declared when only the tiling is under test


def _conv_chain(size: int = 8, channels: int = 2, layers: int = 2) -> Graph:
    """`layers` 3x3 stride-1 SAME convolutions on a size x size x channels image."""
    tensors = [Tensor(0, "input", (1, size, size, channels), "int8")]
    ops = []
    for n in range(layers):
        weights = Tensor(len(tensors), f"w{n}", (channels, 3, 3, channels), "int8", data=bytes(9 * channels ** 2))
        output = Tensor(len(tensors) + 1, f"t{n}", (1, size, size, channels), "int8")
        source = ops[-1].outputs[0] if ops else 0
        ops.append(Op(n, "CONV_2D", (source, weights.index), (output.index,), Conv2DOptions("SAME")))
        tensors += [weights, output]
    return Graph("chain", tensors, ops, (0,), (ops[-1].outputs[0],))


def test_receptive_fields_of_two_same_convs_on_a_2x2_grid():
    staged = rewrite(_conv_chain(), 0, 1, (2, 2))
    (stage,) = stages(staged)
    top_left, _, _, bottom_right = stage.options.patches
    # the second conv's 4x4 tile needs rows/cols [0, 5) of the first's output, which needs [0, 6) of the input
    assert top_left == (Window((0, 6), (0, 6), (0, 5), (0, 5), 1, 1), Window((0, 5), (0, 5), (0, 4), (0, 4), 1, 1))
    assert bottom_right == (Window((2, 8), (2, 8), (3, 8), (3, 8), 0, 0),
                            Window((3, 8), (3, 8), (4, 8), (4, 8), 0, 0))
    assert stage.options.buffer_bytes == (6 * 6 * 2, 5 * 5 * 2)  # ping: input patch and last tile; pong: middle
    # the first conv computes 4 tiles of 5x5 instead of 8x8 pixels once: 36 pixels of 3*3*2*2 MACs again
    assert unpatched_macs(staged, stage) == 2 * 64 * 36
    assert patched_macs(staged, stage) - unpatched_macs(staged, stage) == 36 * 36
    check_patch_stages(staged, {0: ENOUGH})


def test_expand_gives_the_original_ops_back():
    graph = _conv_chain(layers=3)
    staged = rewrite(graph, 1, 2, (2, 2))
    assert [op.opcode for op in staged.ops] == ["CONV_2D", "CUSTOM:SAPOOL_PATCH_STAGE"]
    expanded, moved = expand(staged)
    assert expanded.ops == graph.ops and moved == {0: 0}


def test_a_tensor_read_twice_or_a_graph_output_ends_a_stage():
    graph = _conv_chain(layers=3)
    assert stage_runs(graph) == [(0, 2)]
    assert stage_runs(replace(graph, outputs=(graph.ops[0].outputs[0], graph.ops[2].outputs[0]))) == [(1, 2)]
    second_reader = Op(3, "ADD", (graph.ops[1].outputs[0], 0), (graph.ops[2].outputs[0],))
    assert stage_runs(replace(graph, ops=[*graph.ops, second_reader])) == [(0, 1)]


@pytest.mark.parametrize("seed", range(16))
def test_every_grid_of_a_random_stage_passes_the_brute_force_check(seed):
    graph = read_tflite_bytes(build_stage_model(seed).content, f"stage{seed}")
    for size in range(1, 6):
        staged = rewrite(graph, 0, len(graph.ops) - 1, (size, size))
        if staged is not None:
            check_patch_stages(staged, {0: ENOUGH})


def _two_readers(pool_stride: int = 4, embed_kernel: int = 4) -> Graph:
    """SAP's shape: a 3x3 conv on 16x16, whose output a 4x4 pool (stride `pool_stride`) and a stride-4 conv of
    kernel `embed_kernel` (the patch embedding) both read, each a graph output."""
    graph = _conv_chain(size=16, layers=1)
    source = graph.ops[0].outputs[0]
    out = (16 - 4) // pool_stride + 1
    tensors = [*graph.tensors, Tensor(3, "pooled", (1, out, out, 2), "int8"),
               Tensor(4, "w_embed", (2, embed_kernel, embed_kernel, 2), "int8", data=bytes(2 * 2 * embed_kernel ** 2)),
               Tensor(5, "embedded", (1, 4, 4, 2), "int8")]
    pool = Op(1, "AVERAGE_POOL_2D", (source,), (3,), Pool2DOptions("VALID", pool_stride, pool_stride, 4, 4))
    embed = Op(2, "CONV_2D", (source, 4), (5,), Conv2DOptions("VALID", 4, 4))
    return replace(graph, tensors=tensors, ops=[*graph.ops, pool, embed], outputs=(3, 5))


def test_a_tensor_read_by_terminal_ops_alone_ends_a_stage_in_all_of_them():
    graph = _two_readers()
    assert stage_runs(graph) == [(0, 2)]
    staged = rewrite(graph, 0, 2, (2, 2))
    (stage,) = stages(staged)
    assert stage.options.terminals == 2 and stage.outputs == (3, 5) and len(staged.ops) == 1
    # each 2x2 output tile needs an 8x8 window of the conv output (both terminals), so a 10x10 input patch
    assert stage.options.patches[0][0] == Window((0, 9), (0, 9), (0, 8), (0, 8), 1, 1)
    assert stage.options.buffer_bytes == (max(9 * 9, 2 * 2) * 2, 8 * 8 * 2)
    check_patch_stages(staged, {0: ENOUGH})
    assert rewrite(graph, 0, 1, (2, 2)) is None  # the conv output would be read outside the stage
    assert expand(staged)[0].ops == graph.ops


def test_terminal_ops_of_other_output_sizes_or_windows_are_not_tiled():
    unequal_sizes = _two_readers(pool_stride=3)  # a 5x5 pool output next to the 4x4 embedding
    assert stage_runs(unequal_sizes) == [] and rewrite(unequal_sizes, 0, 2, (1, 1)) is None
    unequal_windows = _two_readers(embed_kernel=3)  # 4x4 outputs both, but 3-row windows next to 4-row ones
    assert stage_runs(unequal_windows) == [(0, 2)]
    assert rewrite(unequal_windows, 0, 2, (2, 2)) is None and rewrite(_two_readers(), 0, 2, (2, 2)) is not None


@pytest.mark.parametrize("seed", range(16))
def test_every_grid_of_a_random_terminal_stage_passes_the_brute_force_check(seed):
    graph = read_tflite_bytes(build_terminal_stage_model(seed).content, f"terminals{seed}")
    assert stage_runs(graph) == [(0, len(graph.ops) - 1)]
    for size in range(1, 6):
        staged = rewrite(graph, 0, len(graph.ops) - 1, (size, size))
        if staged is not None:
            check_patch_stages(staged, {0: ENOUGH})
            (stage,) = stages(staged)
            broken = replace(stage, options=replace(stage.options, patches=stage.options.patches[:-1]))
            with pytest.raises(VerificationError, match="not exactly once"):  # a terminal tile left out
                check_patch_stages(replace(staged, ops=[broken]), {0: ENOUGH})


def _live_with_patch_buffers(graph):
    """Bytes live per op with each patch stage's buffers as its scratch (no other kernel scratch)."""
    from sapool.memory.lifetimes import compute_lifetimes, live_bytes_per_op

    scratch = {op.index: op.options.buffers_total for op in stages(graph)}
    return live_bytes_per_op(compute_lifetimes(graph, in_place=True, scratch=scratch), len(graph.ops), 16)


@pytest.fixture(scope="module")
def vww_stage():
    graph = read_tflite(shared_model("vww_96_int8"))
    staged = choose_patches(graph, _live_with_patch_buffers).graph
    return staged, stages(staged)[0]


def test_vww_runs_its_first_four_ops_in_8x8_patches(vww_stage):
    staged, stage = vww_stage
    assert [op.index for op in stage.options.ops] == [0, 1, 2, 3] and stage.options.grid == (8, 8)
    assert stage.inputs[0] == staged.inputs[0] and staged.tensor(stage.outputs[0]).shape == (1, 24, 24, 16)
    check_patch_stages(staged, {stage.index: stage.options.buffers_total})


@pytest.mark.parametrize("broken", ["overlap", "shifted", "outside", "buffer", "scratch", "unchained"])
def test_the_check_rejects_each_kind_of_broken_stage(vww_stage, broken):
    staged, stage = vww_stage
    options = stage.options
    patches = [list(windows) for windows in options.patches]
    scratch = options.buffers_total
    if broken == "overlap":  # the second tile starts one column early: that column is computed twice
        last = patches[1][-1]
        patches[1][-1] = replace(last, out_cols=(last.out_cols[0] - 1, last.out_cols[1]))
    elif broken == "shifted":  # the depthwise conv reads its patch one row off
        patches[9][1] = replace(patches[9][1], pad_top=patches[9][1].pad_top + 1)
    elif broken == "outside":
        first = patches[-1][0]
        patches[-1][0] = replace(first, in_rows=(first.in_rows[0], first.in_rows[1] + 1))
    elif broken == "buffer":
        options = replace(options, buffer_bytes=(options.buffer_bytes[0] - 1, options.buffer_bytes[1]))
    elif broken == "scratch":
        scratch -= 1
    else:
        patches[0][1] = replace(patches[0][1], in_rows=(0, 1))
    bad = replace(stage, options=replace(options, patches=tuple(map(tuple, patches))))
    graph = replace(staged, ops=[bad if op is stage else op for op in staged.ops])
    with pytest.raises(VerificationError, match="patch stage at op 0"):
        check_patch_stages(graph, {0: scratch})
