"""Labelled data prepared for a model: which split, images resized or flattened, float data used as is, and every
way data can fail to fit a model as one BadInputError naming both shapes."""

import numpy as np
import pytest

from sapool.errors import BadInputError
from sapool.validate.samples import CLASSIFICATION, REGRESSION, ModelSide, load_samples

CNN = ModelSide((1, 3, 4, 4), 1, (0.5,), (0.25,), (1, 3))
NHWC = ModelSide((1, 4, 4, 3), -1, (0.0,), (1.0,), (1, 3))
FLAT = ModelSide((1, 48), None, (0.0,), (1.0,), (1, 48))


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_float_data_is_used_as_is_and_integer_labels_make_a_classification(tmp_path):
    x = np.random.default_rng(0).normal(size=(6, 3, 4, 4)).astype(np.float32)
    samples = load_samples(_npz(tmp_path / "d.npz", x=x, y=np.arange(6) % 3), CNN, 100)
    assert samples.task == CLASSIFICATION and np.array_equal(samples.inputs, x)
    assert list(samples.targets) == [0, 1, 2, 0, 1, 2] and "all 6" in samples.source


def test_a_test_split_is_preferred_and_a_subset_is_the_fixed_one(tmp_path):
    x = np.zeros((10, 3, 4, 4), np.float32)
    x_test = np.arange(8, dtype=np.float32)[:, None, None, None] * np.ones((1, 3, 4, 4), np.float32)
    spec = _npz(tmp_path / "d.npz", x=x, y=np.zeros(10, int), x_test=x_test, y_test=np.arange(8) % 3)
    first, again = load_samples(spec, CNN, 5), load_samples(spec, CNN, 5)
    assert "x_test/y_test" in first.source and "5 of 8" in first.source
    assert np.array_equal(first.inputs, again.inputs)
    assert list(first.targets) == [int(v) % 3 for v in first.inputs[:, 0, 0, 0]]  # each sample keeps its label


def test_float_targets_make_a_regression_of_the_output_size(tmp_path):
    x = np.ones((4, 48), np.float32)
    samples = load_samples(_npz(tmp_path / "ae.npz", x=x, y=x), FLAT, 10)
    assert samples.task == REGRESSION and samples.targets.shape == (4, 48) and samples.class_names is None


def test_uint8_images_are_normalised_resized_for_a_cnn_and_transposed_for_an_nhwc_model(tmp_path):
    pixels = np.full((2, 8, 8, 3), 255, np.uint8)
    spec = _npz(tmp_path / "img.npz", x=pixels, y=np.array([0, 1]))
    nchw = load_samples(spec, CNN, 10)
    assert nchw.inputs.shape == (2, 3, 4, 4) and np.allclose(nchw.inputs, (1.0 - 0.5) / 0.25)
    assert load_samples(spec, NHWC, 10).inputs.shape == (2, 4, 4, 3)


def test_images_are_flattened_for_a_flat_input_of_their_pixel_count(tmp_path):
    pixels = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    samples = load_samples(_npz(tmp_path / "img.npz", x=pixels, y=np.array([0, 1])), FLAT, 10)
    assert np.allclose(samples.inputs, pixels.transpose(0, 3, 1, 2).reshape(2, 48) / 255.0, atol=1e-6)


@pytest.mark.parametrize(("arrays", "model", "message"), [
    ({"x": np.zeros((3, 3, 5, 5), np.float32), "y": np.zeros(3, int)}, CNN,
     "samples are 3×5×5 but the model input is 1×3×4×4"),
    ({"x": np.zeros((3, 4, 4), np.uint8), "y": np.zeros(3, int)}, CNN, "(1 channel(s), the model takes 3)"),
    ({"x": np.zeros((3, 5, 5, 1), np.uint8), "y": np.zeros(3, int)}, FLAT,
     "a non-image input takes the pixels flattened"),
    ({"x": np.zeros((3, 3, 4, 4), np.float32), "y": np.array([0, 1, 3])}, CNN,
     "labels run from 0 to 3 but the model has 3 outputs"),
    ({"x": np.zeros((3, 48), np.float32), "y": np.zeros((3, 47), np.float32)}, FLAT, "targets are 47 per sample"),
    ({"x": np.zeros((3, 48), np.float32), "y": np.zeros((2,), int)}, FLAT, "has 3 samples but 'y' has 2"),
    ({"x": np.zeros((3, 48), np.float32)}, FLAT, "has no array 'y'"),
])
def test_data_that_does_not_fit_the_model_is_one_bad_input_error(tmp_path, arrays, model, message):
    with pytest.raises(BadInputError) as caught:
        load_samples(_npz(tmp_path / "bad.npz", **arrays), model, 10)
    assert message in str(caught.value)
