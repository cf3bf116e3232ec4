"""Float vs int8 top-1 of the shipped SAP checkpoint on 1,000 Fashion-MNIST test images, and the per-layer table."""

import pytest

from sapool.quantize.accuracy import accuracy_report, evaluation_images
from tests.quantize.conftest import needs_fashion_mnist

pytestmark = [needs_fashion_mnist, pytest.mark.slow]


@pytest.fixture(scope="module")
def shipped(shipped_export):
    """The shipped checkpoint quantised as `sapool compile` does (200 calibration images) and scored."""
    model, model_input, checkpoint, quantized = shipped_export
    images, labels = evaluation_images(model_input, recorded_dataset=checkpoint.dataset, count=1000)
    return model, quantized, images, labels, accuracy_report(model, quantized.tflite, images, labels)


def test_int8_top1_is_within_one_point_of_float_on_1000_test_images(shipped):
    *_, report = shipped
    assert report.images == 1000
    assert report.float_top1 > 0.8
    assert report.drop_points <= 1.0, f"float {report.float_top1:.2%} vs int8 {report.int8_top1:.2%}"
    assert report.warning is None


def test_every_sap_sub_layer_is_reported_and_close_to_float(shipped):
    *_, report = shipped
    names = [layer.name for layer in report.layers]
    for part in ("patch_embed", "attention.scores", "attention.out", "restore", "export_pool.exp", "export_pool"):
        assert f"features.stage1.pool.{part}" in names
    assert names[-1] == "(model output)"
    assert len(names) == len(set(names))
    assert report.worst_layer().cosine > 0.99
    assert all(layer.max_abs >= 0 and 0 <= layer.relative_l2 < 0.2 for layer in report.layers)


def test_a_drop_above_the_limit_warns_and_names_the_worst_layer(shipped):
    model, quantized, images, labels, _ = shipped
    report = accuracy_report(model, quantized.tflite, images[:50], labels[:50], max_drop_points=-101.0)
    assert report.warning is not None and "points below float" in report.warning
    assert report.worst_layer().name in report.warning
