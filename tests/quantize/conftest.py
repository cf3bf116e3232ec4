"""Session-scoped int8 exports of small sapool networks, shared by the conversion and footprint tests.

One mcunet (width 0.25) per pooling kind × downsampling mode at the smallest input each mode allows (aggressive
needs a multiple of 64, standard of 32). Weights are random; BatchNorm statistics are set from 16 Fashion-MNIST
images (a forward pass in train mode, no training) so that activations have realistic ranges. Each export is made
once per session, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from sapool.models.config import ModelConfig
from sapool.data.datasets import FASHION_MNIST_DIR

POOLS = ("sap", "sap-nowin", "lip", "max", "avg", "strided")
MODES = ("aggressive", "standard")
INPUT_SIZES = {"aggressive": 64, "standard": 32}
CALIBRATION_IMAGES = 16
FASHION_MNIST_STATS = ((0.286,), (0.353,))

needs_fashion_mnist = pytest.mark.skipif(
    not FASHION_MNIST_DIR.is_dir(), reason="Debian package dataset-fashion-mnist not installed")


@dataclass(frozen=True)
class SmallExport:
    config: ModelConfig
    model: torch.nn.Module
    calibration: tuple[torch.Tensor, ...]
    quantized: object  # sapool.quantize.convert.QuantizedModel


@pytest.fixture(scope="session")
def shipped_export():
    """(model, model_input, checkpoint, QuantizedModel): the shipped checkpoint quantised as `sapool compile` does
    (200 calibration images of its recorded data set), once per session."""
    from sapool.quantize.calibration import calibration_batches
    from sapool.quantize.convert import quantize_to_tflite
    from sapool.quantize.images import ModelInput
    from sapool.train.checkpoint import load_model
    from tests.test_pretrained import CHECKPOINT

    torch.set_num_threads(1)
    model, checkpoint = load_model(CHECKPOINT)
    config = checkpoint.config
    model_input = ModelInput((1, config.in_channels, config.input_size, config.input_size), checkpoint.normalization)
    calibration = calibration_batches(model_input, recorded_dataset=checkpoint.dataset)
    return model, model_input, checkpoint, quantize_to_tflite(model, model_input.shape, calibration)


@pytest.fixture(scope="session")
def small_export():
    """`small_export(pool, mode)` → SmallExport, converted once per session."""
    cache: dict[tuple[str, str], SmallExport] = {}

    def get(pool: str, mode: str) -> SmallExport:
        if (pool, mode) not in cache:
            cache[pool, mode] = _export(pool, mode)
        return cache[pool, mode]

    return get


def _export(pool: str, mode: str) -> SmallExport:
    from sapool.models.build import build_model
    from sapool.quantize.calibration import calibration_batches
    from sapool.quantize.convert import quantize_to_tflite
    from sapool.quantize.images import ModelInput

    torch.set_num_threads(1)
    torch.manual_seed(0)
    size = INPUT_SIZES[mode]
    config = ModelConfig(arch="mcunet", pool=pool, downsample=mode, input_size=size, width=0.25)
    model = build_model(config)
    model_input = ModelInput.of((1, 1, size, size), *FASHION_MNIST_STATS)
    calibration = calibration_batches(model_input, recorded_dataset="fashion-mnist", samples=CALIBRATION_IMAGES)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average: one pass sets the statistics of that batch exactly
    with torch.no_grad():
        model.train()(torch.cat(calibration.batches))  # BatchNorm running statistics only; no weight changes
    model.eval()
    return SmallExport(config, model, calibration.batches, quantize_to_tflite(model, model_input.shape, calibration))
