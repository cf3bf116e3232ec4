"""One process or many: the same training code runs alone or under `torchrun` with DistributedDataParallel.

torchrun announces a multi-process run through WORLD_SIZE / RANK / LOCAL_RANK (and MASTER_ADDR / MASTER_PORT);
that is the launcher's protocol, not sapool configuration, so reading them here is the one place we look at the
environment. Only rank 0 prints and writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from sapool.errors import BadInputError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Workers:
    """Where this process sits: its rank among `world_size` processes and the device it computes on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def sum(self, values: list[float]) -> list[float]:
        """Add `values` over all processes (identity when alone); used for loss/accuracy totals."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor.tolist()


def choose_device(requested: str, local_rank: int = 0) -> torch.device:
    if requested not in DEVICES:
        raise BadInputError(f"device must be one of {', '.join(DEVICES)}; got {requested!r}")
    if requested == "cuda" and not torch.cuda.is_available():
        raise BadInputError("--device cuda was asked for but no CUDA device is available (use --device cpu)")
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def use_threads(threads: int | None) -> None:
    """CPU threads for torch in this process; None keeps torch's default (one per core).

    Measured on 2 shared cores: an mcunet trains ~2x faster on 2 threads than on 1 when the machine is idle,
    but 3-5x slower when other processes keep the cores busy (OpenMP threads spin waiting for each other).
    """
    if threads is None:
        return
    if threads < 1:
        raise BadInputError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)


def start_workers(requested_device: str, threads: int | None = None) -> Workers:
    """Join the torchrun process group if there is one (gloo on CPU, nccl on CUDA); otherwise a single worker."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        use_threads(threads)
        return Workers(0, 1, choose_device(requested_device))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = choose_device(requested_device, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    # several processes on one machine share its cores; oversubscribed threads slow everyone down
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    use_threads(threads or max(1, (os.cpu_count() or 1) // local_world))
    return Workers(dist.get_rank(), dist.get_world_size(), device)


def stop_workers(workers: Workers) -> None:
    if workers.distributed and dist.is_initialized():
        dist.destroy_process_group()
