"""Calibration inputs for post-training quantisation: N real images (default 200) prepared as the model expects.

Sources, in the order the compile pipeline offers them: `--calib DATA` (an image folder or .npz, read with the
training loaders; fashion-mnist also works), else the data set a sapool checkpoint records (its train split, so
the test split stays held out for the accuracy report), else `--calib random`: uniformly random pixels, accepted
with a warning because ranges calibrated on noise say nothing about real inputs. No source at all is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sapool.errors import BadInputError
from sapool.quantize.images import ModelInput, load_split, prepare
from sapool.data.datasets import ImageSet

DEFAULT_SAMPLES = 200
RANDOM = "random"
RANDOM_SEED = 0
RANDOM_WARNING = ("calibrating on random pixels: int8 ranges fitted to noise, so int8 accuracy on real inputs "
                  "is unknown; pass --calib DATA with real images")


@dataclass(frozen=True)
class CalibrationSet:
    """Batches of one prepared image each (the exported model has batch size 1); iterate to calibrate."""

    batches: tuple[torch.Tensor, ...]
    source: str
    warning: str | None = None

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def calibration_batches(model_input: ModelInput, *, data: str | None = None, recorded_dataset: str | None = None,
                        samples: int = DEFAULT_SAMPLES) -> CalibrationSet:
    """`samples` prepared images from `data` (a data spec or "random"), else from `recorded_dataset`.

    A fixed subset (sapool.data.datasets.SUBSET_SEED) is taken, so two compiles of one model calibrate alike.
    Fewer images than `samples`, or images with the wrong channel count, raise BadInputError.
    """
    if samples < 1:
        raise BadInputError(f"calibration needs at least 1 sample; got {samples}")
    spec = data if data is not None else recorded_dataset
    if spec is None:
        raise BadInputError("this model records no data set to calibrate on: pass --calib DATA (an image folder "
                            "or .npz), or --calib random to accept unmeasured int8 accuracy")
    if spec == RANDOM:
        return CalibrationSet(_split(_random_pixels(model_input, samples)), RANDOM, RANDOM_WARNING)
    images = load_split(spec, "train")
    if len(images) < samples:
        raise BadInputError(f"calibration data {spec} has {len(images)} images, fewer than the {samples} samples "
                            "asked for; lower --calib-samples or give more images")
    prepared = prepare(images.take(samples), model_input, "calibration")
    return CalibrationSet(_split(prepared), f"{spec} (train split, {samples} images)")


def _random_pixels(model_input: ModelInput, samples: int) -> torch.Tensor:
    """Uniform uint8 values at the model's input shape, normalised like real images (flattened into features for
    a feature input)."""
    generator = torch.Generator().manual_seed(RANDOM_SEED)
    shape = model_input.shape[1:] if model_input.is_image else (1, 1, torch.Size(model_input.shape[1:]).numel())
    pixels = torch.randint(0, 256, (samples, *shape), generator=generator, dtype=torch.uint8)
    return prepare(ImageSet(pixels, torch.zeros(samples, dtype=torch.int64)), model_input, "random")


def _split(images: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(image.unsqueeze(0) for image in images)
