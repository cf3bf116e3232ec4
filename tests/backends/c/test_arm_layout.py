"""The weight orders of the optimised kernels (sapool/backends/c/arm_layout.py), checked against their definitions
element by element: the arm kernels read weights only through these orders."""

import numpy as np
import pytest

from sapool.backends.c.arm_layout import channel_grouped, encoded_shifts, pair_interleaved


@pytest.mark.parametrize("channels, runs, run", [(4, 1, 8), (5, 3, 9), (1, 2, 3), (6, 10, 4)])
def test_pair_interleaved_is_four_bytes_of_each_row_in_turn_then_the_tails(channels, runs, run):
    rows = np.arange(channels * runs * run, dtype=np.int64).reshape(channels, runs, run) % 251 - 125
    arm = pair_interleaved(rows.astype(np.int8))
    expected = []
    for first in range(0, channels - 1, 2):
        for r in range(runs):
            words = run - run % 4
            for k in range(0, words, 4):
                expected += [*rows[first, r, k:k + 4], *rows[first + 1, r, k:k + 4]]
            expected += [*rows[first, r, words:], *rows[first + 1, r, words:]]
    if channels % 2:
        expected += list(rows[-1].reshape(-1))
    assert arm.tolist() == expected and arm.dtype == np.int8


def test_channel_grouped_puts_each_group_of_four_channels_taps_together():
    taps, channels = 9, 10
    filters = (np.arange(taps * channels) % 200 - 100).astype(np.int8).reshape(taps, channels)
    arm = channel_grouped(filters)
    for c in range(8):
        for t in range(taps):
            assert arm[(c // 4) * taps * 4 + t * 4 + c % 4] == filters[t, c]
    tail = arm[8 * taps:].reshape(taps, 2)
    assert (tail == filters[:, 8:]).all() and arm.size == filters.size


def test_encoded_shifts_hold_the_right_shift_in_the_bottom_byte_and_left_plus_one_above():
    codes = encoded_shifts([3, 0, -1, -31])
    assert [(c & 0xFF, (c >> 8) & 0xFF, c >> 16) for c in codes.tolist()] == [(0, 4, 0), (0, 1, 0), (1, 1, 0),
                                                                               (31, 1, 0)]
    with pytest.raises(ValueError, match="out of range"):
        encoded_shifts([31])
