"""LoadedModel: what every front end hands to the compile pipeline, whichever file the user gave.

Plain data (no torch import here). The pipeline branches on `kind` only: the torch kinds go on to calibration and
quantisation with `module` and `input_shape`; "tflite-int8" goes straight to planning with `tflite` and `graph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sapool.errors import BadInputError

if TYPE_CHECKING:
    from sapool.ir.graph import Graph
    from sapool.train.checkpoint import Checkpoint
    from sapool.data.transforms import Normalization

SAPOOL_CHECKPOINT = "sapool-checkpoint"
TORCH_EXPORT = "torch-export"
ONNX = "onnx"
TFLITE_INT8 = "tflite-int8"
KINDS = (SAPOOL_CHECKPOINT, TORCH_EXPORT, ONNX, TFLITE_INT8)
TORCH_KINDS = (SAPOOL_CHECKPOINT, TORCH_EXPORT, ONNX)
MAX_WEIGHT_MAGNITUDE = 1e30  # check_weights: larger float weights are refused before calibration


@dataclass(frozen=True)
class LoadedModel:
    """One model, ready for the next step.

    - `module`: a float torch module in inference form that takes any batch size (None for "tflite-int8").
      For "sapool-checkpoint" an nn.Module in eval mode (SAP layers in their paper form); for "torch-export" the
      ExportedProgram's `.module()` in inference form (`.eval()`/`.train()` switch its dropout and batch-norm
      ops); for "onnx" a torch.fx GraphModule in eval mode whose Conv/Gemm/MatMul weights are nn.Conv*/nn.Linear
      parameters. Modules traced for a fixed batch size (ONNX, a .pt2 without a symbolic batch) come wrapped in
      batching.AnyBatch (`.inner` is the traced module): whole at that batch size, chunk by chunk otherwise.
    - `input_shape`: the single input's fixed shape (NCHW for image CNNs; NHWC for "tflite-int8", as stored in
      the flatbuffer). A symbolic batch becomes 1; a batch size the file fixes is kept (its graph may depend on it).
    - `normalization`: per-channel mean/std (0..1 pixel scale) the checkpoint records; None when unknown.
    - `class_names`, `dataset`: as recorded by `sapool train`; None when unknown.
    - `tflite`, `graph`: the flatbuffer bytes and its sapool Graph, for "tflite-int8" only.
    - `parity`: for "onnx", the worst difference between the torch module and onnxruntime on seeded random
      inputs, relative to max(1, |reference|); None for the other kinds.
    - `description`: one human line for the compile report ("sapool checkpoint mcunet/sap-nowin, 10 classes ...").
    """

    kind: str
    path: Path
    module: Any
    input_shape: tuple[int, ...]
    normalization: Normalization | None = None
    class_names: tuple[str, ...] | None = None
    dataset: str | None = None
    tflite: bytes | None = None
    graph: Graph | None = None
    parity: float | None = None
    description: str = ""
    checkpoint: Checkpoint | None = None  # the whole sapool checkpoint (metrics, train args) for that kind

    @property
    def is_torch(self) -> bool:
        return self.kind in TORCH_KINDS


def check_weights(path: Path, module) -> None:
    """Every float weight and buffer finite and below MAX_WEIGHT_MAGNITUDE: NaN, ±inf or 1e38 would reach the
    calibration histograms (torch.histc) and fail deep inside them, or quantise to nonsense."""
    import torch

    tensors = [(name, tensor.detach()) for name, tensor in (*module.named_parameters(), *module.named_buffers())]
    for name, tensor in tensors:
        if not tensor.is_floating_point() or tensor.numel() == 0:
            continue
        if not bool(torch.isfinite(tensor).all()):
            raise BadInputError(f"{path}: weight {name!r} holds NaN or infinite values")
        if float(tensor.abs().max()) > MAX_WEIGHT_MAGNITUDE:
            raise BadInputError(f"{path}: weight {name!r} reaches {float(tensor.abs().max()):.3g}; sapool "
                                f"quantises weights of magnitude up to {MAX_WEIGHT_MAGNITUDE:g}")
