"""strides: the merged N-D walks the broadcasting and transposing kernels take visit exactly the elements numpy
visits (property-based over shapes, broadcast patterns and permutations)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sapool.backends.c.strides import broadcast_strides, contiguous_strides, to_rank
from sapool.ir.shapes import merge_dims


def _walk(dims, strides) -> list[int]:
    """Element offsets in the order the kernels' nested loops (outermost first) produce them."""
    return [sum(i * s for i, s in zip(index, strides)) for index in itertools.product(*map(range, dims))]


shapes = st.lists(st.integers(1, 4), min_size=0, max_size=6)


@settings(max_examples=200, deadline=None)
@given(shapes, st.data())
def test_broadcast_walk_reads_what_numpy_broadcasting_reads(out_shape, data):
    masks = data.draw(st.lists(st.booleans(), min_size=len(out_shape), max_size=len(out_shape)))
    dropped = data.draw(st.integers(0, len(out_shape)))
    operand = [1 if keep else d for d, keep in zip(out_shape, masks)][dropped:]
    dims, (a_strides, b_strides) = merge_dims(out_shape, broadcast_strides(out_shape, operand),
                                              contiguous_strides(out_shape))
    expected = np.broadcast_to(np.arange(math.prod(operand)).reshape(operand), out_shape).ravel().tolist()
    assert _walk(to_rank(dims), to_rank(a_strides, fill=0)) == expected
    assert _walk(dims, b_strides) == list(range(math.prod(out_shape)))
    assert len(dims) <= len([d for d in out_shape if d != 1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=6), st.randoms())
def test_transpose_walk_reads_what_numpy_transpose_reads(shape, random):
    perm = list(range(len(shape)))
    random.shuffle(perm)
    source_strides = contiguous_strides(shape)
    dims, (strides,) = merge_dims([shape[p] for p in perm], [source_strides[p] for p in perm])
    expected = np.arange(math.prod(shape)).reshape(shape).transpose(perm).ravel().tolist()
    assert _walk(dims, strides) == expected
