"""Images for calibration and accuracy checks, prepared exactly as `sapool train` prepares them.

The data come through sapool.train.data's loaders (Fashion-MNIST from the Debian package, an image folder, an
.npz file) and sapool.train.transforms.prepare_batch (bilinear resize to the model's input, the recorded
per-channel normalisation), so a checkpoint is calibrated and scored on the inputs it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sapool.errors import BadInputError
from sapool.train.data import ImageSet, load_dataset
from sapool.train.transforms import Normalization, prepare_batch


@dataclass(frozen=True)
class ModelInput:
    """What a model takes: its fixed N×C×H×W shape and how pixels on [0, 1] are normalised for it."""

    shape: tuple[int, int, int, int]
    normalization: Normalization

    @property
    def channels(self) -> int:
        return self.shape[1]

    @classmethod
    def of(cls, shape, mean=None, std=None) -> ModelInput:
        """A model input of `shape` (N, C, H, W); `mean`/`std` default to [0, 1] pixels (mean 0, std 1)."""
        shape = tuple(int(size) for size in shape)
        if len(shape) != 4 or min(shape) < 1:
            raise BadInputError(f"model input must be N×C×H×W with positive sizes; got {shape}")
        channels = shape[1]
        return cls(shape, Normalization(_per_channel(mean, 0.0, channels, "mean"),
                                        _per_channel(std, 1.0, channels, "std")))


def _per_channel(values, default: float, channels: int, what: str) -> tuple[float, ...]:
    if values is None:
        return (default,) * channels
    values = tuple(float(v) for v in values)
    if len(values) == 1:
        values *= channels
    if len(values) != channels:
        raise BadInputError(f"calibration {what} needs 1 or {channels} values (one per input channel); "
                            f"got {len(values)}")
    if what == "std" and min(values) <= 0:
        raise BadInputError(f"calibration std values must be > 0; got {values}")
    return values


def load_split(spec: str, split: str) -> ImageSet:
    """The "train" or "test" split of a data set spec (fashion-mnist, a folder, an .npz, or a checkpoint's id)."""
    dataset = load_dataset(spec)
    return dataset.train if split == "train" else dataset.test


def prepare(images: ImageSet, model_input: ModelInput, what: str) -> torch.Tensor:
    """uint8 images → float N×C×H×W for the model; images with another channel count are a BadInputError."""
    channels = int(images.images.shape[1])
    if channels != model_input.channels:
        raise BadInputError(f"{what} images have {channels} channel(s) but the model takes {model_input.channels} "
                            f"(input shape {'×'.join(map(str, model_input.shape))})")
    return prepare_batch(images.images, tuple(model_input.shape[2:]), model_input.normalization)
