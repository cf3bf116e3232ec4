"""Per-batch image preparation: uint8 → float, resize to the model's input size, augment, normalise.

Done on whole batches with torch ops (one interpolate call per batch) so that the stored data stays uint8 at its
native size and two CPU cores spend their time in the network, not in per-image Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and std of the training images on the 0..1 scale; the checkpoint records them."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict) -> Normalization:
        return cls(tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["std"]))


def channel_statistics(images: torch.Tensor, chunk: int = 8192) -> Normalization:
    """Mean/std per channel of uint8 N×C×H×W images, accumulated in float64 chunks to bound memory."""
    channels = images.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    total_sq = torch.zeros(channels, dtype=torch.float64)
    for start in range(0, images.shape[0], chunk):
        block = images[start:start + chunk].to(torch.float64) / 255.0
        total += block.sum(dim=(0, 2, 3))
        total_sq += (block * block).sum(dim=(0, 2, 3))
    count = images.shape[0] * images.shape[2] * images.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt().clamp_min(1e-3)
    return Normalization(tuple(mean.tolist()), tuple(std.tolist()))


def prepare_batch(
    images: torch.Tensor,
    size: int | tuple[int, int],
    normalization: Normalization,
    augment_with: torch.Generator | None = None,
    flip: bool = True,
) -> torch.Tensor:
    """uint8 N×C×H×W → float N×C×size×size (or N×C×height×width for a (height, width) size), normalised;
    augmented given a generator: a padded random crop, and a left-right flip unless `flip` is False (data whose
    classes are not mirror-symmetric, such as digits).

    The generator (not the global RNG) drives augmentation so that a run's randomness depends only on its seed.
    """
    height, width = (size, size) if isinstance(size, int) else size
    batch = images.to(torch.float32) / 255.0
    if batch.shape[-2:] != (height, width):
        shrinking = batch.shape[-1] > width or batch.shape[-2] > height
        batch = F.interpolate(batch, size=(height, width), mode="bilinear", align_corners=False, antialias=shrinking)
    if augment_with is not None:
        batch = _random_crop(batch, padding=max(1, min(height, width) // 8), generator=augment_with)
        if flip:
            batch = _random_flip(batch, generator=augment_with)
    mean = torch.tensor(normalization.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(normalization.std, dtype=torch.float32).view(1, -1, 1, 1)
    return (batch - mean) / std


def _random_crop(batch: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad by `padding` on each side and cut each image back to its size at a random offset."""
    count, _, height, width = batch.shape
    padded = F.pad(batch, (padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (count, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, y:y + height, x:x + width] for i, (y, x) in enumerate(offsets)])


def _random_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror half the images left-right (harmless for clothes and most object classes)."""
    flip = torch.rand(batch.shape[0], generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), batch.flip(-1), batch)
