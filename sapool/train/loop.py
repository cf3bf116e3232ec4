"""The training loop: epochs of shuffled, augmented mini-batches under a warm-up + cosine learning-rate schedule.

Every random choice comes from the run's seed and the epoch number (shuffle order, augmentation, dropout), and the
learning rate is a pure function of the global step, so a run resumed from a checkpoint continues exactly where
an uninterrupted run would have been.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch.utils.data import DistributedSampler

from sapool.errors import BadInputError
from sapool.data.datasets import ImageSet
from sapool.train.distributed import Workers
from sapool.train.objective import Objective
from sapool.train.objective_options import ObjectiveOptions
from sapool.train.progress import TrainingProgress
from sapool.data.transforms import Normalization, prepare_batch

OPTIMIZERS = ("sgd", "adamw")
DEFAULT_LR = {"sgd": 0.05, "adamw": 0.002}
WEIGHT_DECAY = {"sgd": 5e-4, "adamw": 0.05}
WARMUP_FRACTION = 0.05


@dataclass(frozen=True)
class Schedule:
    """How long and how fast to train; `batch_size` is per process under torchrun."""

    epochs: int
    batch_size: int
    lr: float
    optimizer: str
    seed: int

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise BadInputError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 2:
            raise BadInputError(f"batch size must be >= 2 (batch norm needs two images), got {self.batch_size}")
        if not self.lr > 0:
            raise BadInputError(f"learning rate must be > 0, got {self.lr}")
        if self.optimizer not in OPTIMIZERS:
            raise BadInputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}")


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    lr: float
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    images_per_second: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def make_optimizer(model: torch.nn.Module, schedule: Schedule) -> torch.optim.Optimizer:
    """SGD (Nesterov momentum) or AdamW; no weight decay on biases and batch-norm scales, as is usual."""
    decayed = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    plain = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    groups = [{"params": decayed, "weight_decay": WEIGHT_DECAY[schedule.optimizer]},
              {"params": plain, "weight_decay": 0.0}]
    if schedule.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=schedule.lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=schedule.lr)


def learning_rate(step: int, total_steps: int, base_lr: float) -> float:
    """Linear warm-up over the first 5% of steps (at least one), then cosine decay to zero."""
    warmup = max(1, round(WARMUP_FRACTION * total_steps))
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return 0.5 * base_lr * (1.0 + math.cos(math.pi * progress))


def steps_per_epoch(train_size: int, schedule: Schedule, workers: Workers) -> int:
    per_worker = math.ceil(train_size / workers.world_size)
    return max(1, per_worker // schedule.batch_size)


def _epoch_batches(train: ImageSet, schedule: Schedule, workers: Workers, epoch: int) -> list[torch.Tensor]:
    """This process's share of a seeded shuffle (DistributedSampler pads so all ranks take the same step count).

    The last partial batch is dropped (a batch of one breaks batch norm) unless it is the only one.
    """
    sampler = DistributedSampler(train, num_replicas=workers.world_size, rank=workers.rank, shuffle=True,
                                 seed=schedule.seed)
    sampler.set_epoch(epoch)
    order = torch.tensor(list(sampler), dtype=torch.int64)
    count = steps_per_epoch(len(train), schedule, workers)
    size = min(schedule.batch_size, len(order))
    return [order[i * size:(i + 1) * size] for i in range(count)]


def train_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train: ImageSet,
    normalization: Normalization,
    input_size: int,
    schedule: Schedule,
    workers: Workers,
    epoch: int,
    progress: TrainingProgress,
    objective: Objective | None = None,
) -> tuple[float, float, float, float]:
    """One pass over this process's shard; returns (mean loss, accuracy, images/s, last learning rate).

    `objective` is the loss and augmentation (default: cross-entropy, padded crop + flip)."""
    objective = objective or Objective(ObjectiveOptions(), normalization)
    torch.manual_seed(schedule.seed * 1000 + epoch)  # dropout and anything else drawing on the global RNG
    augment = torch.Generator().manual_seed(schedule.seed * 1_000_003 + epoch * 1009 + workers.rank)
    if objective.options.augment == "none":
        augment = None
    flip = objective.options.augment == "crop-flip"
    batches = _epoch_batches(train, schedule, workers, epoch)
    total_steps = schedule.epochs * len(batches)
    model.train()
    loss_sum = correct = seen = 0.0
    lr = schedule.lr
    started = time.perf_counter()
    progress.start_epoch(epoch, schedule.epochs, len(batches))
    for index, batch_indices in enumerate(batches):
        lr = learning_rate(epoch * len(batches) + index, total_steps, schedule.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs = prepare_batch(train.images[batch_indices], input_size, normalization, augment, flip)
        inputs = inputs.to(workers.device)
        labels = train.labels[batch_indices].to(workers.device)
        logits = model(inputs)
        loss = objective(logits, inputs, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += float(loss.detach()) * len(labels)
        correct += float((logits.detach().argmax(1) == labels).sum())
        seen += len(labels)
        elapsed = time.perf_counter() - started
        progress.advance(loss_sum / seen, correct / seen, seen * workers.world_size / max(elapsed, 1e-9))
    elapsed = time.perf_counter() - started
    loss_sum, correct, seen = workers.sum([loss_sum, correct, seen])
    return loss_sum / seen, correct / seen, seen / max(elapsed, 1e-9), lr


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    data: ImageSet,
    normalization: Normalization,
    input_size: int,
    batch_size: int,
    workers: Workers,
) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over `data`, each process taking every world_size-th image."""
    model.eval()
    shard = torch.arange(workers.rank, len(data), workers.world_size)
    loss_sum = correct = 0.0
    for start in range(0, len(shard), batch_size):
        indices = shard[start:start + batch_size]
        inputs = prepare_batch(data.images[indices], input_size, normalization).to(workers.device)
        labels = data.labels[indices].to(workers.device)
        logits = model(inputs)
        loss_sum += float(F.cross_entropy(logits, labels, reduction="sum"))
        correct += float((logits.argmax(1) == labels).sum())
    loss_sum, correct, count = workers.sum([loss_sum, correct, float(len(shard))])
    return loss_sum / max(count, 1.0), correct / max(count, 1.0)


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train: ImageSet,
    test: ImageSet,
    normalization: Normalization,
    input_size: int,
    schedule: Schedule,
    workers: Workers,
    progress: TrainingProgress,
    first_epoch: int = 0,
    on_epoch_end: Callable[[EpochResult], None] = lambda result: None,
    objective: Objective | None = None,
) -> list[EpochResult]:
    """Train epochs first_epoch … schedule.epochs-1, evaluating on `test` after each; `on_epoch_end` saves."""
    results = []
    for epoch in range(first_epoch, schedule.epochs):
        train_loss, train_accuracy, speed, lr = train_epoch(
            model, optimizer, train, normalization, input_size, schedule, workers, epoch, progress, objective
        )
        if not math.isfinite(train_loss):  # nothing is saved: the last good checkpoint stays
            raise BadInputError(f"training diverged: the loss is {train_loss} in epoch {epoch + 1}; "
                                f"try a smaller learning rate than {schedule.lr:g}")
        test_loss, test_accuracy = evaluate(model, test, normalization, input_size, 2 * schedule.batch_size, workers)
        result = EpochResult(epoch + 1, lr, train_loss, train_accuracy, test_loss, test_accuracy, speed)
        progress.end_epoch(result.to_dict())
        on_epoch_end(result)
        results.append(result)
    return results
