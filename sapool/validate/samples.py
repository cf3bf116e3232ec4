"""Labelled samples for `sapool validate`, prepared for one model and checked against its input and output.

Which samples (read by sapool.data.labelled): the data set's own test split where it has one (Fashion-MNIST's
10k, an .npz's `x_test`/`y_test`, a folder with `train/` and `test/`), otherwise all of it (a plain .npz with
`x`/`y`, a folder of class folders): data given to validate is validation data. A fixed subset of `count` is
taken (the same as compile's `--eval`).

What the data mean:
- images (Fashion-MNIST, an image folder, an .npz whose `x` is uint8 N×H×W[×C]): pixels on [0, 1], resized
  bilinearly to the model's resolution and normalised, exactly as compile prepares them; a model with a flat or
  token input takes them flattened when the pixel count is its input size;
- any other .npz `x` (float or wider integers): already in the model's own input form and layout (N×C×H×W for a
  torch CNN, N×F for an MLP, as stored, e.g. N×H×W×C, for a .tflite), used as is;
- the targets decide the task: integer `y` of one value per sample are class labels (classification: top-1,
  per-class accuracy, confusion matrix); float `y` are regression targets (mean absolute error), e.g. `y = x`
  for an autoencoder.
Data that does not fit the model (channels, size, label range, target shape) is a BadInputError naming both
shapes, never a silent skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.errors import BadInputError

CLASSIFICATION, REGRESSION = "classification", "regression"


@dataclass(frozen=True)
class Samples:
    """`inputs`: float32 (N, *model input without batch) in the model's layout; `targets`: int64 (N,) labels or
    float32 (N, *output) targets; `source`: one line saying which samples."""

    inputs: np.ndarray
    targets: np.ndarray
    task: str
    class_names: tuple[str, ...] | None
    source: str


@dataclass(frozen=True)
class ModelSide:
    """What the data must fit: the model's input shape (batch first), where its channel axis is (1 for NCHW, -1
    for NHWC, None for a non-image input), the per-channel normalisation of [0, 1] pixels, its output shape."""

    input_shape: tuple[int, ...]
    channel_axis: int | None
    mean: tuple[float, ...]
    std: tuple[float, ...]
    output_shape: tuple[int, ...]


def load_samples(spec: str, model: ModelSide, count: int) -> Samples:
    """The samples of data `spec` for `model`; BadInputError when they do not fit it."""
    from sapool.data.datasets import FASHION_MNIST
    from sapool.data.labelled import read_images, read_npz

    path = Path(spec.split(":", 1)[1] if spec.startswith(("npz:", "folder:")) else spec)
    if spec != FASHION_MNIST and path.suffix.lower() == ".npz":
        x, y, split, class_names = read_npz(path)
    else:
        x, y, split, class_names = read_images(spec, path)
    total = len(y)
    order = np.arange(total) if count >= total else _subset(total, count)
    x, y = x[order], y[order]
    task = _task(spec, y)
    inputs = _inputs(spec, x, model)
    targets = _targets(spec, y, task, model)
    taken = f"{len(y):,} of {total:,}" if len(y) < total else f"all {total:,}"
    return Samples(inputs, targets, task, class_names if task == CLASSIFICATION else None,
                   f"{spec} ({split}, {taken} samples)")


def _subset(total: int, count: int) -> np.ndarray:
    """The same fixed subset compile's accuracy step scores (sapool.data.datasets.ImageSet.take)."""
    import torch

    from sapool.data.datasets import SUBSET_SEED

    return torch.randperm(total, generator=torch.Generator().manual_seed(SUBSET_SEED))[:count].numpy()


def _task(spec: str, y: np.ndarray) -> str:
    if np.issubdtype(y.dtype, np.integer):
        if y.ndim != 1:
            raise BadInputError(f"{spec}: integer labels must be one per sample, got shape {y.shape} (float "
                                "targets make a regression)")
        return CLASSIFICATION
    if np.issubdtype(y.dtype, np.floating):
        return REGRESSION
    raise BadInputError(f"{spec}: targets must be integer labels or float values, got dtype {y.dtype}")


def _inputs(spec: str, x: np.ndarray, model: ModelSide) -> np.ndarray:
    sample = tuple(model.input_shape[1:])
    if x.dtype != np.uint8:
        if tuple(x.shape[1:]) != sample:
            raise BadInputError(f"{spec}: samples are {_shape(x.shape[1:])} but the model input is "
                                f"{_shape(model.input_shape)} (non-image data is used as is, in the model's layout)")
        return x.astype(np.float32)
    return _images(spec, x, model)


def _images(spec: str, pixels: np.ndarray, model: ModelSide) -> np.ndarray:
    """uint8 N×C×H×W → the model's input: resized and normalised (image models) or flattened (flat inputs)."""
    import torch

    from sapool.data.transforms import Normalization, prepare_batch

    channels = pixels.shape[1]
    fits = f"images {_shape(pixels.shape[1:])} do not fit the model input {_shape(model.input_shape)}"
    normalization = Normalization(_per_channel(model.mean, channels, "mean"), _per_channel(model.std, channels, "std"))
    if model.channel_axis is None or len(model.input_shape) != 4:
        if int(np.prod(pixels.shape[1:])) != int(np.prod(model.input_shape[1:])):
            raise BadInputError(f"{spec}: {fits} (a non-image input takes the pixels flattened, "
                                f"{int(np.prod(pixels.shape[1:])):,} values)")
        prepared = prepare_batch(torch.from_numpy(pixels), tuple(pixels.shape[2:]), normalization).numpy()
        return prepared.reshape(len(pixels), *model.input_shape[1:])
    wanted = model.input_shape[model.channel_axis]
    if channels != wanted:
        raise BadInputError(f"{spec}: {fits} ({channels} channel(s), the model takes {wanted})")
    height, width = (model.input_shape[2:] if model.channel_axis == 1 else model.input_shape[1:3])
    prepared = prepare_batch(torch.from_numpy(pixels), (height, width), normalization).numpy()
    return prepared if model.channel_axis == 1 else prepared.transpose(0, 2, 3, 1)


def _per_channel(values: tuple[float, ...], channels: int, what: str) -> tuple[float, ...]:
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise BadInputError(f"--{what} needs 1 or {channels} values (one per image channel); got {len(values)}")
    return values


def _targets(spec: str, y: np.ndarray, task: str, model: ModelSide) -> np.ndarray:
    outputs = int(np.prod(model.output_shape[1:]))
    if task == CLASSIFICATION:
        if y.min() < 0 or y.max() >= outputs:
            raise BadInputError(f"{spec}: labels run from {int(y.min())} to {int(y.max())} but the model has "
                                f"{outputs} outputs (output {_shape(model.output_shape)})")
        return y.astype(np.int64)
    if int(np.prod(y.shape[1:])) != outputs:
        raise BadInputError(f"{spec}: targets are {_shape(y.shape[1:])} per sample but the model output is "
                            f"{_shape(model.output_shape)}")
    return y.astype(np.float32).reshape(len(y), -1)


def _shape(shape) -> str:
    return "×".join(str(int(size)) for size in shape) or "a scalar"


def model_side(loaded, mean: tuple[float, ...] | None, std: tuple[float, ...] | None) -> ModelSide:
    """What data must fit for the loaded model (sapool.frontends.LoadedModel), and the normalisation of pixels:
    `mean`/`std` (compile's --calib-mean/--calib-std), else what the checkpoint records, else none ([0, 1])."""
    shape = tuple(loaded.input_shape)
    recorded = loaded.normalization
    if mean is None and std is None and recorded is not None:
        mean, std = recorded.mean, recorded.std
    else:  # as compile's --calib-mean/--calib-std (sapool.quantize.images.ModelInput.of)
        mean, std = mean or (0.0,), std or (1.0,)
    if loaded.is_torch:
        return ModelSide(shape, 1 if len(shape) == 4 else None, tuple(mean), tuple(std), _float_output_shape(loaded))
    graph = loaded.graph
    _single_input(graph, loaded.path)
    return ModelSide(shape, -1 if len(shape) == 4 else None, tuple(mean), tuple(std),
                     tuple(graph.tensor(graph.outputs[0]).shape))


def _single_input(graph, model: Path) -> None:
    from sapool.errors import UnsupportedError

    if len(graph.inputs) != 1:
        raise UnsupportedError(f"{model} takes {len(graph.inputs)} inputs; sapool validate scores one-input models")


def _float_output_shape(loaded) -> tuple[int, ...]:
    """The float model's output shape, from one zero input (the data check needs it before quantising)."""
    import torch

    from sapool.quantize.threads import one_torch_thread

    with torch.no_grad(), one_torch_thread():
        output = loaded.module(torch.zeros(loaded.input_shape))
    output = output[0] if isinstance(output, (tuple, list)) else output
    return tuple(output.shape)
