"""`sapool validate` end to end on every front end, with data whose right answers are known.

The constructed model scores each class by one input channel's mean (global average → identity Linear); every
sample has one channel far above the others, so float and int8 both pick that channel (margins of ~0.8 against
int8 steps of ~0.01), and a known set of samples carries a different label. The expected confusion matrix is then
a brute-force count of (label, dominant channel) pairs.
"""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from sapool.cli import main

COUNT, CLASSES = 60, 3


class ChannelScores(nn.Module):
    """Identity 1×1 conv → global average → identity Linear: the per-channel means, through int8 conv and FC."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(CLASSES, CLASSES, 1, bias=False)
        self.pool, self.linear = nn.AdaptiveAvgPool2d(1), nn.Linear(CLASSES, CLASSES, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(CLASSES)[:, :, None, None])
            self.linear.weight.copy_(torch.eye(CLASSES))

    def forward(self, x):
        return self.linear(torch.flatten(self.pool(self.conv(x)), 1))


def _sapool(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """(folder, x float N×3×4×4, labels, the dominant channel of each sample, .pt2 path, .onnx path)."""
    folder = tmp_path_factory.mktemp("validate")
    rng = np.random.default_rng(0)
    dominant = rng.integers(0, CLASSES, COUNT)
    x = rng.uniform(-0.1, 0.1, (COUNT, CLASSES, 4, 4)).astype(np.float32)
    x[np.arange(COUNT), dominant] += 0.8
    labels = dominant.copy()
    labels[::7] = (labels[::7] + 1) % CLASSES  # every 7th sample is labelled as the next class
    np.savez(folder / "nchw.npz", x=x, y=labels)
    np.savez(folder / "nhwc.npz", x=x.transpose(0, 2, 3, 1), y=labels)
    np.savez(folder / "regression.npz", x=x, y=x.mean(axis=(2, 3)) + 0.1)
    np.savez(folder / "wrong_shape.npz", x=np.zeros((4, 3, 5, 5), np.float32), y=np.zeros(4, int))
    model, example = ChannelScores().eval(), (torch.zeros(1, CLASSES, 4, 4),)
    torch.export.save(torch.export.export(model, example), folder / "model.pt2")
    torch.onnx.export(model, example, str(folder / "model.onnx"), dynamo=False)
    return folder, x, labels, dominant


def _expected_confusion(labels, predicted, classes=CLASSES):
    counts = [[0] * classes for _ in range(classes)]
    for label, guess in zip(labels, predicted):
        counts[label][guess] += 1
    return counts


def test_a_pt2_scores_float_and_int8_with_the_brute_force_confusion_matrix(labelled):
    folder, _, labels, dominant = labelled
    code, out, err = _sapool("validate", folder / "model.pt2", "--data", folder / "nchw.npz", "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["schema_version"] == 1 and report["task"] == "classification" and report["samples"] == COUNT
    expected = _expected_confusion(labels, dominant)
    right = np.mean(labels == dominant)
    for engine in ("float", "int8"):
        assert report[engine]["confusion"] == expected
        assert report[engine]["top1"] == pytest.approx(right)
        assert [c["samples"] for c in report[engine]["classes"]] == [int(np.sum(labels == c)) for c in range(CLASSES)]
    assert report["agreement"] == {"top1_agreement": 1.0}
    assert report["layers"] and all(layer["cosine"] > 0.99 for layer in report["layers"])
    assert any("validation samples themselves" in warning for warning in report["warnings"])


def test_an_onnx_autoencoder_style_regression_is_scored_by_mean_absolute_error(labelled):
    folder, x, _, _ = labelled
    code, out, err = _sapool("validate", folder / "model.onnx", "--data", folder / "regression.npz", "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["task"] == "regression" and report["model_kind"] == "onnx"
    assert report["float"]["mean_abs_error"] == pytest.approx(0.1, abs=1e-5)
    assert report["int8"]["mean_abs_error"] == pytest.approx(0.1, abs=0.02)
    assert report["agreement"]["int8_vs_float_mean_abs_error"] < 0.02


def test_an_int8_tflite_is_scored_in_int8_alone_and_compile_eval_agrees(tmp_path):
    """kws_ref_model on float inputs in its own NHWC layout; the right answers are the interpreter's own argmax
    (TFLite's reference kernels run directly here), every 7th sample labelled as the next class."""
    from sapool.ir.read import read_tflite
    from sapool.quantize.int8_run import quantize
    from sapool.verify.interpreters import run_model
    from tests.conftest import shared_model

    model = shared_model("kws_ref_model")
    graph = read_tflite(model)
    tensor = graph.tensor(graph.inputs[0])
    scale, zero_point = tensor.quantization.scale[0], tensor.quantization.zero_point[0]
    low, high = (-128 - zero_point) * scale, (127 - zero_point) * scale
    x = np.random.default_rng(2).uniform(low, high, (COUNT, *tensor.shape[1:])).astype(np.float32)
    predicted = run_model(model, quantize(x, tensor), "litert-ref").outputs.reshape(COUNT, -1).argmax(axis=1)
    labels = predicted.copy()
    labels[::7] = (labels[::7] + 1) % 12
    np.savez(tmp_path / "kws.npz", x=x, y=labels)
    code, out, err = _sapool("validate", model, "--data", tmp_path / "kws.npz", "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["model_kind"] == "tflite-int8" and report["float"] is None and report["agreement"] is None
    assert report["int8"]["confusion"] == _expected_confusion(labels, predicted, 12) and report["layers"] == []
    code, out, err = _sapool("compile", model, "-t", "stm32h7", "-o", tmp_path / "project", "--eval",
                             tmp_path / "kws.npz", "--no-firmware", "--json", "-q")
    assert code == 0, err
    accuracy = json.loads(out)["accuracy"]
    assert accuracy["float_top1"] is None and accuracy["int8_top1"] == pytest.approx(np.mean(labels == predicted))


def test_compile_eval_with_data_that_does_not_fit_an_int8_tflite_is_an_error(labelled, tmp_path):
    from tests.conftest import shared_model

    folder = labelled[0]
    code, _, err = _sapool("compile", shared_model("ad01_int8"), "-t", "stm32h7", "-o", tmp_path / "out",
                           "--eval", folder / "nchw.npz", "-q")
    assert code == 2 and not (tmp_path / "out").exists()
    assert err.strip().splitlines() == [
        f"Error: {folder / 'nchw.npz'}: samples are 3×4×4 but the model input is 1×640 (non-image data is used as "
        "is, in the model's layout)"]


def test_data_of_the_wrong_shape_is_one_error_line_before_any_conversion(labelled):
    folder = labelled[0]
    code, out, err = _sapool("validate", folder / "model.pt2", "--data", folder / "wrong_shape.npz")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"Error: {folder / 'wrong_shape.npz'}: samples are 3×5×5 but the model "
                                        "input is 1×3×4×4 (non-image data is used as is, in the model's layout)"]


def test_a_model_without_a_recorded_data_set_needs_data(labelled):
    code, _, err = _sapool("validate", labelled[0] / "model.onnx")
    assert code == 2 and "records no data set: pass --data" in err


def test_a_checkpoint_is_scored_on_its_recorded_data_and_its_float_top1_is_the_modules(tmp_path):
    """A three-epoch checkpoint on an .npz of dark and bright images; without --data, validate takes all of the
    recorded .npz (it has no test split) and calibrates on its train split, as compile does."""
    from sapool.frontends import load_model
    from sapool.data.transforms import prepare_batch

    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2
    images = (rng.integers(0, 100, (40, 8, 8)) + 150 * labels[:, None, None]).astype(np.uint8)
    np.savez(tmp_path / "images.npz", x=images, y=labels)
    checkpoint = tmp_path / "model.pt"
    code, _, err = _sapool("train", "--arch", "mcunet", "--width", "0.25", "--pool", "max", "--input-size", 32,
                           "--downsample", "standard", "--batch-size", 8, "--epochs", 3, "--threads", 1, "-q",
                           "--data", tmp_path / "images.npz", "-o", checkpoint)
    assert code == 0, err
    code, out, err = _sapool("validate", checkpoint, "--calib-samples", 16, "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["model_kind"] == "sapool-checkpoint" and report["samples"] == 40
    assert "train split, 16 images" in report["calibration"]
    loaded = load_model(checkpoint)
    with torch.no_grad():
        prepared = prepare_batch(torch.from_numpy(images[:, None]), (32, 32), loaded.normalization)
        predicted = loaded.module(prepared).argmax(dim=1).numpy()
    assert report["float"]["confusion"] == _expected_confusion(labels, predicted, 2)
    assert [sum(row) for row in report["int8"]["confusion"]] == [20, 20]


def test_a_flat_input_autoencoder_is_a_regression_against_its_own_input(tmp_path):
    """An identity Linear on N×8 features: float reconstructs exactly (MAE 0); int8 within its quantisation step."""
    model = nn.Linear(8, 8, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(8))
    torch.export.save(torch.export.export(model.eval(), (torch.zeros(1, 8),)), tmp_path / "ae.pt2")
    x = np.random.default_rng(1).uniform(-1, 1, (50, 8)).astype(np.float32)
    np.savez(tmp_path / "ae.npz", x=x, y=x)
    code, out, err = _sapool("validate", tmp_path / "ae.pt2", "--data", tmp_path / "ae.npz", "--json", "-q")
    assert code == 0, err
    report = json.loads(out)
    assert report["task"] == "regression" and report["samples"] == 50
    assert report["float"]["mean_abs_error"] < 1e-6
    assert 0 < report["int8"]["mean_abs_error"] < 2 / 255  # a step of the int8 range over [-1, 1] is ~2/255


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--mean", "x", "--mean takes comma-separated numbers"), ("--std", "0", "--std values must lie in")])
def test_bad_normalisation_values_are_refused_before_any_work(labelled, option, value, message):
    folder = labelled[0]
    code, _, err = _sapool("validate", folder / "model.pt2", "--data", folder / "nchw.npz", option, value)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
