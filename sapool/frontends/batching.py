"""AnyBatch: run a module traced for one fixed batch size on batches of any size.

ONNX conversion and torch.export fix every shape, the batch size included (an ONNX Reshape to (1, -1) or an
exported program's input guard). The compile pipeline runs the float model on whole batches (the accuracy
report) but exports and quantises it at the traced batch size, so the wrapper calls the traced module directly
when the batch matches (torch.export then sees the inner graph only) and chunk by chunk otherwise.
"""

from __future__ import annotations

import torch
from torch import nn


class AnyBatch(nn.Module):
    """`inner` at batch size `batch`; starts in `inner`'s train/eval mode."""

    def __init__(self, inner: nn.Module, batch: int) -> None:
        super().__init__()
        self.inner = inner
        self.batch = batch
        self.training = inner.training

    def forward(self, x: torch.Tensor):
        if x.shape[0] == self.batch:
            return self.inner(x)
        if x.shape[0] % self.batch:
            raise ValueError(f"batch of {x.shape[0]} is not a multiple of the model's fixed batch {self.batch}")
        results = [self.inner(chunk) for chunk in x.split(self.batch)]
        if isinstance(results[0], torch.Tensor):
            return torch.cat(results)
        return type(results[0])(torch.cat(parts) for parts in zip(*results))
