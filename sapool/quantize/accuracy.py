"""Float (torch) vs int8 (TFLite reference kernels) top-1 on held-out images, and the per-layer error.

A drop of more than `MAX_DROP_POINTS` top-1 points sets `warning`; the per-layer table (sapool.quantize.
layer_error) then shows where the int8 model drifts. Evaluation images are the test split of the data set a
checkpoint records, or `--eval DATA` (`evaluation_images`), prepared exactly as for calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sapool.errors import BadInputError
from sapool.quantize.images import ModelInput, load_split, prepare
from sapool.quantize.layer_error import LayerError
from sapool.quantize.threads import one_torch_thread

MAX_DROP_POINTS = 1.0
DEFAULT_EVAL_IMAGES = 1000
DEFAULT_LAYER_IMAGES = 16
FLOAT_BATCH = 100


@dataclass(frozen=True)
class AccuracyReport:
    """Top-1 as fractions on `images` held-out images; `layers` in execution order; `warning` or None.
    `float_top1` is None for an int8 .tflite (no float model)."""

    float_top1: float | None
    int8_top1: float
    images: int
    layers: tuple[LayerError, ...]
    warning: str | None

    @property
    def drop_points(self) -> float | None:
        return None if self.float_top1 is None else 100.0 * (self.float_top1 - self.int8_top1)

    def worst_layer(self) -> LayerError | None:
        """The layer with the lowest cosine similarity (where the int8 model departs most from float)."""
        return min(self.layers, key=lambda layer: layer.cosine, default=None)


def evaluation_images(model_input: ModelInput, *, data: str | None = None, recorded_dataset: str | None = None,
                      count: int = DEFAULT_EVAL_IMAGES):
    """(images float N×C×H×W, labels int64 N): up to `count` test-split images of `data` or the recorded set."""
    spec = data if data is not None else recorded_dataset
    if spec is None:
        raise BadInputError("no held-out images to measure int8 accuracy on: pass --eval DATA")
    test = load_split(spec, "test").take(count)
    return prepare(test, model_input, "evaluation"), test.labels


def accuracy_report(module, tflite_bytes: bytes, eval_images, eval_labels, *,
                    layer_images: int = DEFAULT_LAYER_IMAGES, max_drop_points: float = MAX_DROP_POINTS,
                    progress=None) -> AccuracyReport:
    """Score `module` (float) and `tflite_bytes` (int8) on the same prepared images; per-layer errors on the
    first `layer_images` of them. `progress` (a rich Progress) gets one task per stage."""
    import torch

    from sapool.ir.read import read_tflite_bytes
    from sapool.quantize.int8_run import run_int8
    from sapool.quantize.layer_error import layer_errors

    images = torch.as_tensor(eval_images, dtype=torch.float32)
    labels = np.asarray(eval_labels)
    if images.ndim < 2 or len(images) == 0 or len(images) != len(labels):
        raise BadInputError(f"evaluation needs model inputs with one label each; got {tuple(images.shape)} "
                            f"images and {len(labels)} labels")
    graph = read_tflite_bytes(tflite_bytes, "int8 model")
    task = progress.add_task("measuring accuracy", total=3) if progress is not None else None
    float_top1 = _top1(_float_logits(module, images), labels)
    _advance(progress, task)
    int8_top1 = _top1(run_int8(tflite_bytes, graph, images.numpy()).outputs, labels)
    _advance(progress, task)
    sample = images[:layer_images].numpy()
    activations = run_int8(tflite_bytes, graph, sample, intermediates=True).intermediates
    layers = layer_errors(module, graph, sample, activations)
    _advance(progress, task)
    drop = 100.0 * (float_top1 - int8_top1)
    warning = None
    if drop > max_drop_points:
        worst = min(layers, key=lambda layer: layer.cosine, default=None)
        where = f"; the layer furthest from float is {worst.name} (cosine {worst.cosine:.3f})" if worst else ""
        warning = f"int8 top-1 is {drop:.2f} points below float (more than {max_drop_points:g}){where}"
    return AccuracyReport(float_top1, int8_top1, len(labels), layers, warning)


def _float_logits(module, images) -> np.ndarray:
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), one_torch_thread():
            return torch.cat([module(batch) for batch in images.split(FLOAT_BATCH)]).numpy()
    finally:
        module.train(was_training)


def _top1(logits: np.ndarray, labels: np.ndarray) -> float:
    logits = logits.reshape(len(labels), -1)
    return float(np.mean(logits.argmax(axis=1) == labels))


def _advance(progress, task) -> None:
    if progress is not None:
        progress.advance(task)
