"""Calibration images: sources, preparation as in training, and the errors a user can cause."""

import numpy as np
import pytest
import torch

from sapool.errors import BadInputError
from sapool.quantize.calibration import RANDOM, calibration_batches
from sapool.quantize.images import ModelInput
from sapool.data.transforms import Normalization, prepare_batch
from tests.quantize.conftest import needs_fashion_mnist


def write_npz(path, count: int, size: int = 8, channels: int = 1):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (count, size, size, channels), dtype=np.uint8)
    np.savez(path, x=x, y=np.arange(count) % 2)
    return path, x


def test_npz_images_are_resized_and_normalised_as_the_training_loader_does(tmp_path):
    path, x = write_npz(tmp_path / "calib.npz", 20)
    model_input = ModelInput.of((1, 1, 16, 12), mean=[0.5], std=[0.25])
    calibration = calibration_batches(model_input, data=str(path), samples=5)
    assert len(calibration) == 5 and calibration.warning is None
    assert all(batch.shape == (1, 1, 16, 12) for batch in calibration)
    # the same 5 images the fixed-seed subset picks, prepared by the training transform
    train_images = torch.from_numpy(x.transpose(0, 3, 1, 2))
    prepared = {tuple(prepare_batch(train_images[i:i + 1], (16, 12), Normalization((0.5,), (0.25,))).flatten()[:4]
                      .tolist()) for i in range(len(x))}
    assert all(tuple(batch.flatten()[:4].tolist()) in prepared for batch in calibration)


def test_default_normalisation_is_zero_to_one_pixels(tmp_path):
    path, _ = write_npz(tmp_path / "calib.npz", 20)
    calibration = calibration_batches(ModelInput.of((1, 1, 8, 8)), data=str(path), samples=10)
    values = torch.cat(calibration.batches)
    assert 0.0 <= float(values.min()) and float(values.max()) <= 1.0


def test_too_few_images_is_a_bad_input_naming_both_counts(tmp_path):
    path, _ = write_npz(tmp_path / "calib.npz", 12)  # 10% held out: 11 training images
    with pytest.raises(BadInputError, match=r"has 11 images, fewer than the 200 samples"):
        calibration_batches(ModelInput.of((1, 1, 8, 8)), data=str(path))


def test_wrong_channel_count_is_a_bad_input(tmp_path):
    path, _ = write_npz(tmp_path / "calib.npz", 20, channels=3)
    with pytest.raises(BadInputError, match=r"calibration images have 3 channel\(s\) but the model takes 1"):
        calibration_batches(ModelInput.of((1, 1, 8, 8)), data=str(path), samples=4)


def test_no_data_source_is_a_bad_input_that_says_what_to_pass():
    with pytest.raises(BadInputError, match=r"--calib DATA.*--calib random"):
        calibration_batches(ModelInput.of((1, 3, 8, 8)))


def test_mean_and_std_need_one_value_per_channel():
    with pytest.raises(BadInputError, match=r"mean needs 1 or 3 values"):
        ModelInput.of((1, 3, 8, 8), mean=[0.1, 0.2])


def test_random_calibration_is_allowed_with_a_warning_and_is_reproducible():
    model_input = ModelInput.of((1, 3, 8, 8), mean=[0.5], std=[0.5])
    first = calibration_batches(model_input, data=RANDOM, samples=3)
    second = calibration_batches(model_input, data=RANDOM, samples=3)
    assert first.warning and "accuracy" in first.warning
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert torch.cat(first.batches).abs().max() <= 1.0  # (pixel - 0.5) / 0.5


@needs_fashion_mnist
def test_a_checkpoints_recorded_data_set_gives_its_train_split():
    model_input = ModelInput.of((1, 1, 32, 32), mean=[0.286], std=[0.353])
    calibration = calibration_batches(model_input, recorded_dataset="fashion-mnist", samples=4)
    assert calibration.source.startswith("fashion-mnist (train split")
    assert torch.cat(calibration.batches).shape == (4, 1, 32, 32)
