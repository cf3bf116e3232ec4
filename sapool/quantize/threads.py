"""Run small torch workloads on one thread.

Calibration (one small image at a time) and the float accuracy pass (batches of 100 images of 64×64) are too small
for torch's intra-op threads to pay off; on a busy 2-core machine the OpenMP workers spin against other processes
instead (measured: 200 calibration images of the shipped model 130 s on two threads, 6–8 s on one; its float pass
over 1,000 images 1.6 s vs 0.3 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch.set_num_threads(1) for the block, then the caller's setting again."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
