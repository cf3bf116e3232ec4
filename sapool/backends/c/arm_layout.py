"""Weight orders for the optimised kernels (sapool/kernels/arm/), emitted next to the portable order in model.c.

The arm CONV_2D and FULLY_CONNECTED kernels compute two output channels at once, and read both filter rows through
one pointer: rows 2i and 2i+1 are interleaved four bytes at a time, so each 32-bit load is four taps of one row
and the inner loop needs one weight pointer instead of two (the register it frees keeps the 2x2 block of two
pixels x two channels in registers). A row is `runs` runs (one per kernel row: kernel_w * in_c contiguous input
bytes) and the interleaving restarts at each run; a run's last length % 4 bytes follow as row 2i's, then row
2i+1's. An odd last row keeps the portable order.
"""

from __future__ import annotations

import numpy as np


def pair_interleaved(rows: np.ndarray) -> np.ndarray:
    """`rows` [channels, runs, run] → the flat arm order described above (same values, same size)."""
    channels, runs, run = rows.shape
    words = run - run % 4
    pieces = []
    for first in range(0, channels - 1, 2):
        pair = rows[first:first + 2]  # [2, runs, run]
        body = pair[:, :, :words].reshape(2, runs, words // 4, 4).transpose(1, 2, 0, 3).reshape(runs, 2 * words)
        tail = pair[:, :, words:].transpose(1, 0, 2).reshape(runs, -1)
        pieces.append(np.concatenate([body, tail], axis=1).reshape(-1))
    if channels % 2:
        pieces.append(rows[-1].reshape(-1))
    return np.concatenate(pieces) if pieces else rows.reshape(-1)


def conv_gathers_pairs(kernel_h: int, kernel_w: int, in_c: int) -> bool:
    """The CONV_2D layers whose scratch holds two im2col patches, for kernels/arm/conv.c to gather windows two at
    a time (sapool_conv_gathers_pairs in sapool_kernels.h, the same rule): not 1x1, and a kernel row of fewer than
    16 bytes (few input channels, as in a first layer, where a gathered pair beats reading short runs in place)."""
    return not (kernel_h == 1 and kernel_w == 1) and kernel_w * in_c < 16


def encoded_shifts(shifts) -> np.ndarray:
    """Requantisation shifts as the arm kernels read them (sapool_arm.h, sapool_requantize_offset), decoded at
    compile time instead of per output: bits 0-7 hold the right shift (a register-specified shift reads only the
    bottom byte, so the kernel shifts by the code itself), bits 8-15 the left shift + 1. TFLite's shift s means a
    left shift of max(s, 0) and a right shift of max(-s, 0)."""
    shifts = np.asarray(shifts, dtype=np.int64)
    left, right = np.maximum(shifts, 0), np.maximum(-shifts, 0)
    if (left > 30).any() or (right > 31).any():
        raise ValueError(f"requantisation shifts out of range: {shifts.min()}..{shifts.max()}")
    return (right | ((left + 1) << 8)).astype(np.int32)


def channel_grouped(filters: np.ndarray) -> np.ndarray:
    """A depth-multiplier-1 DEPTHWISE_CONV_2D filter [taps, channels] → the order of kernels/arm/depthwise_conv.c:
    per group of four channels its taps back to back (4 bytes each), so a group's weights are one block read at
    fixed offsets; then the channels past the last full group, tap by tap."""
    taps, channels = filters.shape
    vector = channels - channels % 4
    groups = filters[:, :vector].reshape(taps, vector // 4, 4).transpose(1, 0, 2).reshape(-1)
    return np.concatenate([groups, filters[:, vector:].reshape(-1)])
