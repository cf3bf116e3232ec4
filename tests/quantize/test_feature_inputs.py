"""Models on flat N×F features (MLPs, autoencoders, sensor nets): their inputs are described, calibrated and laid
out for the int8 model without an image's channel axis."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sapool.errors import BadInputError
from sapool.quantize.calibration import calibration_batches
from sapool.quantize.images import ModelInput, prepare
from sapool.quantize.io_layout import int8_input_shape, to_int8_layout
from sapool.data.datasets import ImageSet


def test_only_image_inputs_change_layout():
    images = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    assert to_int8_layout(images).shape == (2, 4, 5, 3)
    assert to_int8_layout(torch.as_tensor(images)).shape == (2, 4, 5, 3)
    features = np.arange(12).reshape(2, 6)
    assert to_int8_layout(features) is features
    assert int8_input_shape((1, 3, 8, 8)) == (1, 8, 8, 3) and int8_input_shape((1, 8, 16)) == (1, 8, 16)


def test_a_feature_input_is_normalised_per_feature():
    model_input = ModelInput.of((1, 4), mean=[0.5], std=[0.25, 0.5, 1.0, 2.0])
    assert not model_input.is_image and model_input.channels == 4
    pixels = torch.tensor([[[[0, 255]], [[255, 0]]]], dtype=torch.uint8)  # one 2-channel 1×2 image: 4 values
    prepared = prepare(ImageSet(pixels, torch.zeros(1, dtype=torch.int64)), model_input, "test")
    torch.testing.assert_close(prepared, torch.tensor([[-2.0, 1.0, 0.5, -0.25]]))


def test_images_of_another_size_are_refused_for_a_feature_model():
    pixels = torch.zeros(2, 1, 28, 28, dtype=torch.uint8)
    with pytest.raises(BadInputError, match=r"28×28 images \(784 values each\) but the model takes 1×100 features"):
        prepare(ImageSet(pixels, torch.zeros(2, dtype=torch.int64)), ModelInput.of((1, 100)), "calibration")


def test_random_calibration_fills_the_feature_shape():
    batches = calibration_batches(ModelInput.of((1, 8, 16)), data="random", samples=3)
    assert len(batches) == 3 and all(batch.shape == (1, 8, 16) for batch in batches)
    assert 0.0 <= float(torch.cat(batches.batches).min()) and float(torch.cat(batches.batches).max()) <= 1.0


def test_ranks_beyond_four_are_refused():
    with pytest.raises(BadInputError, match="N×F, N×L×F or N×C×H×W"):
        ModelInput.of((1, 2, 3, 4, 5))
