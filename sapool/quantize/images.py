"""Images for calibration and accuracy checks, prepared exactly as `sapool train` prepares them.

The data come through sapool.data.datasets's loaders (Fashion-MNIST from the Debian package, an image folder, an
.npz file) and sapool.data.transforms.prepare_batch (bilinear resize to the model's input, the recorded
per-channel normalisation), so a checkpoint is calibrated and scored on the inputs it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sapool.errors import BadInputError
from sapool.data.datasets import ImageSet, load_dataset
from sapool.data.transforms import Normalization, prepare_batch


@dataclass(frozen=True)
class ModelInput:
    """What a model takes: its fixed shape and how values on [0, 1] are normalised for it.

    An N×C×H×W input takes images (normalised per channel, axis 1). Any other rank (N×F features of an MLP or
    autoencoder, N×L×E tokens) takes feature vectors, normalised per entry of the last axis; image data sets feed
    such a model flattened (an MLP on 28×28 images takes 784 features).
    """

    shape: tuple[int, ...]
    normalization: Normalization

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 4

    @property
    def channels(self) -> int:
        return self.shape[1] if self.is_image else self.shape[-1]

    @classmethod
    def of(cls, shape, mean=None, std=None) -> ModelInput:
        """A model input of `shape` (N, C, H, W or N, …, F); `mean`/`std` default to [0, 1] values (mean 0,
        std 1)."""
        shape = tuple(int(size) for size in shape)
        if not 2 <= len(shape) <= 4 or min(shape) < 1:
            raise BadInputError(f"model input must be N×F, N×L×F or N×C×H×W with positive sizes; got {shape}")
        channels = shape[1] if len(shape) == 4 else shape[-1]
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
    """uint8 images → float N×C×H×W for the model; images with another channel count are a BadInputError.
    A model with a feature input takes the images flattened, when their size is its feature count."""
    if not model_input.is_image:
        return _flattened(images, model_input, what)
    channels = int(images.images.shape[1])
    if channels != model_input.channels:
        raise BadInputError(f"{what} images have {channels} channel(s) but the model takes {model_input.channels} "
                            f"(input shape {'×'.join(map(str, model_input.shape))})")
    return prepare_batch(images.images, tuple(model_input.shape[2:]), model_input.normalization)


def _flattened(images: ImageSet, model_input: ModelInput, what: str) -> torch.Tensor:
    """uint8 N×C×H×W images → float feature rows of the model's input shape, each value on [0, 1] normalised by
    the feature's mean/std. Images whose size is not the model's feature count are a BadInputError (no resizing:
    which pixel is which feature would be a guess)."""
    features = tuple(model_input.shape[1:])
    values = images.images.shape[1:].numel()
    if values != torch.Size(features).numel():
        raise BadInputError(f"{what} data are {'×'.join(map(str, images.images.shape[1:]))} images ({values:,} "
                            f"values each) but the model takes {'×'.join(map(str, model_input.shape))} features")
    batch = images.images.to(torch.float32).reshape(len(images.images), *features) / 255.0
    mean = torch.tensor(model_input.normalization.mean, dtype=torch.float32)
    std = torch.tensor(model_input.normalization.std, dtype=torch.float32)
    return (batch - mean) / std
