"""Lifetime rules on hand-made graphs, and the lower bound on the shared MLPerf Tiny models."""

import pytest

from sapool.ir.graph import Graph, Op, Tensor
from sapool.ir.read import read_tflite
from sapool.memory import Buffer, aligned, compute_lifetimes, live_bytes_per_op, lower_bound
from tests.conftest import shared_model


def act(index, nbytes, is_variable=False):
    return Tensor(index, f"t{index}", (nbytes,), "int8", is_variable=is_variable)


def const(index, nbytes):
    return Tensor(index, f"w{index}", (nbytes,), "int8", data=bytes(nbytes))


def graph(tensors, ops, inputs, outputs):
    return Graph("g", tensors, [Op(i, code, ins, outs) for i, (code, ins, outs) in enumerate(ops)], inputs, outputs)


def by_tensor(buffers):
    return {t: b for b in buffers for t in b.tensors}


def test_chain_each_activation_lives_from_producer_to_consumer_and_constants_are_excluded():
    g = graph(
        [act(0, 100), const(1, 50), act(2, 200), const(3, 50), act(4, 30)],
        [("CONV_2D", (0, 1), (2,)), ("CONV_2D", (2, 3), (4,))],
        inputs=(0,), outputs=(4,),
    )
    buffers = compute_lifetimes(g)
    assert buffers == [Buffer(0, (0,), 100, 0, 0, "input"), Buffer(1, (2,), 200, 0, 1),
                       Buffer(2, (4,), 30, 1, 1, "output")]
    assert [b.id for b in buffers] == list(range(len(buffers)))


def test_scratch_buffers_live_during_their_op_only_and_count_in_the_lower_bound():
    g = graph(
        [act(0, 100), const(1, 50), act(2, 200), const(3, 50), act(4, 30)],
        [("CONV_2D", (0, 1), (2,)), ("CONV_2D", (2, 3), (4,))],
        inputs=(0,), outputs=(4,),
    )
    plain = compute_lifetimes(g)
    buffers = compute_lifetimes(g, scratch={1: 100, 0: 0})
    assert buffers[:3] == plain
    assert buffers[3:] == [Buffer(3, (), 100, 1, 1, "scratch")]  # a zero-byte request adds nothing
    assert lower_bound(plain, 2) == aligned(100) + aligned(200)  # op 0 is the busiest without scratch
    assert lower_bound(buffers, 2) == aligned(200) + aligned(30) + aligned(100)  # op 1 is, with it
    with pytest.raises(ValueError, match="op 2"):
        compute_lifetimes(g, scratch={2: 16})


def test_variable_tensors_are_state():
    g = graph([act(0, 8), act(1, 8, is_variable=True), act(2, 8)], [("ADD", (0, 1), (2,))], inputs=(0,), outputs=(2,))
    assert [b.kind for b in compute_lifetimes(g)] == ["input", "state", "output"]


def test_view_op_output_shares_its_input_buffer_and_extends_its_lifetime():
    g = graph(
        [act(0, 64), act(1, 64), const(2, 8), act(3, 64), act(4, 16)],
        [("CONV_2D", (0,), (1,)), ("RESHAPE", (1, 2), (3,)), ("FULLY_CONNECTED", (3,), (4,))],
        inputs=(0,), outputs=(4,),
    )
    buffers = by_tensor(compute_lifetimes(g))
    assert buffers[1] is buffers[3]
    assert buffers[1] == Buffer(1, (1, 3), 64, 0, 2)
    copied = by_tensor(compute_lifetimes(g, alias_views=False))
    assert copied[1] == Buffer(1, (1,), 64, 0, 1)
    assert copied[3] == Buffer(2, (3,), 64, 1, 2)


def test_chained_views_of_a_model_input_all_alias_the_input():
    g = graph(
        [act(0, 48), act(1, 48), act(2, 48), act(3, 4)],
        [("SQUEEZE", (0,), (1,)), ("EXPAND_DIMS", (1,), (2,)), ("MEAN", (2,), (3,))],
        inputs=(0,), outputs=(3,),
    )
    buffers = compute_lifetimes(g)
    assert buffers[0] == Buffer(0, (0, 1, 2), 48, 0, 2, "input")
    assert len(buffers) == 2


def test_view_of_a_constant_or_a_size_changing_view_gets_its_own_buffer():
    g = graph(
        [const(0, 32), act(1, 32), act(2, 40), act(3, 20), act(4, 8)],
        [("RESHAPE", (0,), (1,)), ("ADD", (1, 2), (3,)), ("RESHAPE", (3,), (4,))],
        inputs=(2,), outputs=(4,),
    )
    buffers = by_tensor(compute_lifetimes(g))
    assert 0 not in buffers
    assert buffers[1] == Buffer(0, (1,), 32, 0, 1)
    assert buffers[3].tensors == (3,) and buffers[4].tensors == (4,)


def test_input_read_by_several_ops_lives_until_its_last_reader():
    g = graph(
        [act(0, 10), act(1, 10), act(2, 10), act(3, 10)],
        [("CONV_2D", (0,), (1,)), ("CONV_2D", (1,), (2,)), ("ADD", (2, 0), (3,))],
        inputs=(0,), outputs=(3,),
    )
    assert by_tensor(compute_lifetimes(g))[0] == Buffer(0, (0,), 10, 0, 2, "input")


def test_model_output_that_is_also_consumed_lives_to_the_last_op():
    g = graph(
        [act(0, 10), act(1, 20), act(2, 30), act(3, 40)],
        [("CONV_2D", (0,), (1,)), ("CONV_2D", (1,), (2,)), ("CONV_2D", (2,), (3,))],
        inputs=(0,), outputs=(1, 3),
    )
    buffers = by_tensor(compute_lifetimes(g))
    assert (buffers[1].first, buffers[1].last) == (0, 2)


def test_unused_output_lives_only_during_its_producer_and_zero_output_op_extends_its_inputs():
    g = graph(
        [act(0, 10), act(1, 20), act(2, 30), act(3, 40)],
        [("SPLIT", (0,), (1, 2)), ("CONV_2D", (1,), (3,)), ("CALL_ONCE", (0,), ())],
        inputs=(0,), outputs=(3,),
    )
    buffers = by_tensor(compute_lifetimes(g))
    assert (buffers[2].first, buffers[2].last) == (0, 0)
    assert (buffers[0].first, buffers[0].last) == (0, 2)
    assert (buffers[3].first, buffers[3].last) == (1, 2)


def test_variable_tensor_lives_for_the_whole_run():
    g = graph(
        [act(0, 10), act(1, 16, is_variable=True), act(2, 10), act(3, 10), act(4, 10)],
        [("CONV_2D", (0,), (2,)), ("SVDF", (2, 1), (3,)), ("RELU", (3,), (4,))],
        inputs=(0,), outputs=(4,),
    )
    assert by_tensor(compute_lifetimes(g))[1] == Buffer(1, (1,), 16, 0, 2, "state")


def test_tensor_read_but_never_written_is_treated_like_an_input():
    g = graph([act(0, 10), act(1, 10), act(2, 10)], [("CONV_2D", (0,), (1,)), ("ADD", (1, 2), (0,))],
              inputs=(), outputs=(0,))
    buffers = by_tensor(compute_lifetimes(g))
    assert buffers[2].first == 0 and buffers[2].last == 1


def test_aligned_rounds_up_to_the_alignment():
    assert [aligned(s) for s in (0, 1, 16, 17, 33)] == [0, 16, 16, 32, 48]
    assert aligned(5, 4) == 8


def test_live_bytes_count_inputs_and_outputs_together_with_aligned_sizes():
    buffers = [Buffer(0, (0,), 10, 0, 0), Buffer(1, (1,), 20, 0, 1), Buffer(2, (2,), 5, 1, 2)]
    assert live_bytes_per_op(buffers, 3) == [16 + 32, 32 + 16, 16]
    assert lower_bound(buffers, 3) == 48
    assert lower_bound([], 0) == 0


# Lifetime lower bounds from DESIGN §7 (activations only, 16-byte aligned).
MLPERF_LOWER_BOUNDS = {"vww_96_int8": 55_296, "pretrainedResnet_quant": 49_152, "kws_ref_model": 16_000,
                       "ad01_int8": 768}


@pytest.mark.parametrize("name", sorted(MLPERF_LOWER_BOUNDS))
def test_mlperf_lower_bounds_match_design_figures(name):
    g = read_tflite(shared_model(name))
    buffers = compute_lifetimes(g)
    assert lower_bound(buffers, len(g.ops)) == MLPERF_LOWER_BOUNDS[name]
    covered = sorted(t for b in buffers for t in b.tensors)
    assert covered == sorted(t.index for t in g.activations())
    view_outputs = [op.outputs[0] for op in g.ops if op.opcode == "RESHAPE"]
    assert all(len(by_tensor(buffers)[t].tensors) == 2 for t in view_outputs)  # ad01 has none: FC only
