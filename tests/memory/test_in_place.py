"""In-place execution: the byte shift each op needs (checked by simulating its kernel's row order byte by byte),
which ops lifetimes.py lets run in place, and check_buffers refusing sharing the graph does not justify."""

import pytest

from sapool.errors import VerificationError
from sapool.ir.graph import Graph, Op, Tensor
from sapool.ir.options import Conv2DOptions, Pool2DOptions
from sapool.memory import Buffer, compute_lifetimes
from sapool.memory.check import check_buffers
from sapool.memory.in_place import IN_PLACE_ALIGNMENT, in_place_shift


def act(index, shape):
    return Tensor(index, f"t{index}", tuple(shape), "int8")


def const(index, shape):
    size = 1
    for n in shape:
        size *= n
    return Tensor(index, f"w{index}", tuple(shape), "int8", data=bytes(size))


def graph(tensors, ops, inputs, outputs):
    return Graph("g", tensors, [Op(i, *op) for i, op in enumerate(ops)], inputs, outputs)


def _row_order_is_safe(in_shape, out_shape, kernel, stride, padding, shift):
    """Brute force: run a row-streaming kernel's access order on a byte map, input `shift` bytes above the output.

    Output row y is written (all of it, in any order inside the row; a 1×1 kernel also one pixel of the next row:
    the arm pointwise kernel pairs pixels across rows) while input rows from stride·y − pad_top onwards are still
    to be read; safe when no write lands on an input byte that is read at or after that row.
    """
    _, in_h, in_w, in_c = in_shape
    _, out_h, out_w, out_c = out_shape
    total = max(0, (out_h - 1) * stride + kernel - in_h) if padding == "SAME" else 0
    pad_top = total // 2
    in_row, out_row = in_w * in_c, out_w * out_c
    overwritten = set()
    for y in range(out_h):
        reads = range(max(0, y * stride - pad_top), min(in_h, y * stride - pad_top + kernel))
        ahead = out_c if kernel == 1 else 0
        written_by_now = overwritten | set(range(y * out_row, min((y + 1) * out_row + ahead, out_h * out_row)))
        for row in range(reads.start, in_h):  # this row's reads and every later row's
            if any(shift + row * in_row + x in written_by_now for x in range(in_row)):
                return False
        overwritten = written_by_now
    return True


@pytest.mark.parametrize("in_shape, out_shape, kernel, stride, padding", [
    ((1, 6, 5, 4), (1, 6, 5, 4), 3, 1, "SAME"),
    ((1, 6, 5, 4), (1, 6, 5, 8), 1, 1, "VALID"),
    ((1, 7, 5, 4), (1, 4, 3, 4), 3, 2, "SAME"),
    ((1, 7, 5, 4), (1, 5, 3, 6), 3, 1, "VALID"),
])
def test_conv_shift_is_the_smallest_safe_one_rounded_to_the_alignment(in_shape, out_shape, kernel, stride, padding):
    tensors = [act(0, in_shape), const(1, (out_shape[3], kernel, kernel, in_shape[3])), act(2, out_shape)]
    op = Op(0, "CONV_2D", (0, 1), (2,), Conv2DOptions(padding, stride, stride))
    shift = in_place_shift(graph(tensors, [], (0,), (2,)), op, 0)
    assert shift % IN_PLACE_ALIGNMENT == 0
    assert _row_order_is_safe(in_shape, out_shape, kernel, stride, padding, shift)
    smallest = next(s for s in range(shift + 1) if _row_order_is_safe(in_shape, out_shape, kernel, stride, padding, s))
    assert shift - IN_PLACE_ALIGNMENT < smallest <= shift


def test_pool_uses_its_filter_height():
    tensors = [act(0, (1, 6, 6, 4)), act(1, (1, 6, 6, 4))]
    pool = Op(0, "MAX_POOL_2D", (0,), (1,), Pool2DOptions("SAME", 1, 1, 3, 3))
    g = graph(tensors, [], (0,), (1,))
    assert in_place_shift(g, pool, 0) == 2 * 6 * 4  # two input rows (pad_top + 1), already a multiple of 16


def test_elementwise_ops_share_exactly_only_an_input_of_the_output_shape():
    tensors = [act(0, (2, 8)), act(1, (1, 8)), act(2, (2, 8))]
    g = graph(tensors, [], (0, 1), (2,))
    add = Op(0, "ADD", (0, 1), (2,))
    assert in_place_shift(g, add, 0) == 0
    assert in_place_shift(g, add, 1) is None  # broadcast input: element i of the output is not its element i
    assert in_place_shift(g, Op(0, "FULLY_CONNECTED", (0, 1), (2,)), 0) is None


def _chain():
    """input → RELU → t1 → LOGISTIC → t2 → ADD(t2, t1?) …: t0 input, t1 read twice, t2 dies at the ADD."""
    tensors = [act(0, (16,)), act(1, (16,)), act(2, (16,)), act(3, (16,))]
    ops = [("RELU", (0,), (1,)), ("LOGISTIC", (1,), (2,)), ("ADD", (2, 1), (3,))]
    return graph(tensors, ops, (0,), (3,))


def test_only_inputs_dying_at_the_op_and_not_graph_inputs_are_overwritten():
    g = _chain()
    buffers = compute_lifetimes(g, in_place=True)
    by_tensor = {t: b for b in buffers for t in b.tensors}
    assert by_tensor[0] is not by_tensor[1]  # the graph input is kept for the next inference
    assert by_tensor[1] is not by_tensor[2]  # t1 is still read by the ADD
    assert by_tensor[2] is by_tensor[3] and by_tensor[3].in_place_ops == (2,)  # the ADD writes over t2
    check_buffers(g, buffers)
    assert compute_lifetimes(g) == compute_lifetimes(g, in_place=False)  # off unless asked for


def test_check_buffers_refuses_sharing_no_op_justifies():
    g = _chain()
    t1_and_t2 = Buffer(1, (1, 2), 16, 0, 2, in_place_ops=(1,))  # t1 is still read by op 2 when op 1 writes t2
    with pytest.raises(VerificationError, match="share bytes"):
        check_buffers(g, [Buffer(0, (0,), 16, 0, 0, "input"), t1_and_t2, Buffer(2, (3,), 16, 2, 2, "output")])


def test_check_buffers_refuses_a_shift_smaller_than_the_kernel_needs_and_a_short_lifetime():
    tensors = [act(0, (1, 8, 8, 1)), const(1, (4, 1, 1, 1)), act(2, (1, 8, 8, 4)), const(3, (4, 3, 3, 4)),
               act(4, (1, 8, 8, 4))]
    ops = [("CONV_2D", (0, 1), (2,), Conv2DOptions("VALID", 1, 1)), ("CONV_2D", (2, 3), (4,), Conv2DOptions())]
    g = graph(tensors, ops, (0,), (4,))
    buffers = compute_lifetimes(g, in_place=True)
    merged = next(b for b in buffers if 4 in b.tensors)
    assert merged.in_place_ops == (1,) and merged.offset_of(2) - merged.offset_of(4) == 64  # two 32 B rows
    check_buffers(g, buffers)
    too_close = Buffer(merged.id, (2, 4), 256 + 48, merged.first, merged.last, "output", (48, 0), (1,))
    with pytest.raises(VerificationError, match="share bytes"):
        check_buffers(g, [b if b is not merged else too_close for b in buffers])
    short = Buffer(merged.id, merged.tensors, merged.size, merged.first + 1, merged.last, "output", merged.offsets)
    with pytest.raises(VerificationError, match="lives over ops"):
        check_buffers(g, [b if b is not merged else short for b in buffers])
