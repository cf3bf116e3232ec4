"""Inputs to verify a model on: the real samples shipped next to it where there are some, else seeded random.

The MLPerf Tiny models in ../shared/models/mlperf_tiny come with a few real inputs under `samples/` (see that
folder's README): kws has one int8 input; ad01 has one float spectrogram of 200 frames x 128 bins, from which
every 5-frame window (196 of them) is one model input, quantised with the model's input parameters. Any other
model gets seeded random int8 inputs, so runs are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.errors import BadInputError
from sapool.ir.graph import Graph

KWS_SAMPLE = Path("samples/kws01/kws_sample0_int8.bin")
AD01_SPECTROGRAM = Path("samples/ad01/normal_id_01_00000000_hist_librosa.bin")
AD01_FRAMES, AD01_BINS, AD01_WINDOW = 200, 128, 5


@dataclass(frozen=True)
class Inputs:
    data: np.ndarray  # (N, input bytes) int8
    shipped: int  # how many of them are real samples (the first ones)
    description: str


def model_inputs(model_path: Path, graph: Graph, count: int, *, seed: int = 0) -> Inputs:
    """`count` inputs for the model at `model_path`: its shipped samples first, then seeded random ones."""
    if count < 1:
        raise BadInputError(f"--inputs must be at least 1, got {count}")
    input_bytes = graph.tensor(graph.inputs[0]).nbytes
    shipped = _shipped_samples(Path(model_path), graph, input_bytes)[:count]
    random = np.random.default_rng(seed).integers(-128, 128, size=(count - len(shipped), input_bytes), dtype=np.int8)
    parts = []
    if len(shipped):
        parts.append(f"{len(shipped)} shipped sample{'s' if len(shipped) != 1 else ''}")
    if len(random):
        parts.append(f"{len(random)} seeded random (seed {seed})")
    return Inputs(np.concatenate([shipped, random]), len(shipped), " + ".join(parts))


def inputs_from_file(path: Path, graph: Graph) -> Inputs:
    """Raw int8 inputs back to back (a whole number of the model's input size)."""
    input_bytes = graph.tensor(graph.inputs[0]).nbytes
    try:
        data = np.fromfile(path, dtype=np.int8)
    except OSError as err:
        raise BadInputError(f"cannot read --input {path}: {err.strerror or err}") from None
    if data.size == 0 or data.size % input_bytes:
        raise BadInputError(
            f"--input {path} has {data.size} bytes, not a whole number of inputs of {input_bytes} bytes (raw int8)"
        )
    return Inputs(data.reshape(-1, input_bytes), 0, f"{data.size // input_bytes} from {path}")


def _shipped_samples(model_path: Path, graph: Graph, input_bytes: int) -> np.ndarray:
    folder = model_path.parent
    none = np.zeros((0, input_bytes), dtype=np.int8)
    if model_path.stem == "kws_ref_model" and (folder / KWS_SAMPLE).is_file():
        sample = np.fromfile(folder / KWS_SAMPLE, dtype=np.int8)
        return sample.reshape(1, -1) if sample.size == input_bytes else none
    if model_path.stem == "ad01_int8" and (folder / AD01_SPECTROGRAM).is_file():
        frames = np.fromfile(folder / AD01_SPECTROGRAM, dtype="<f4")
        if frames.size != AD01_FRAMES * AD01_BINS or input_bytes != AD01_WINDOW * AD01_BINS:
            return none
        frames = frames.reshape(AD01_FRAMES, AD01_BINS)
        windows = np.stack([frames[i:i + AD01_WINDOW].reshape(-1) for i in range(AD01_FRAMES - AD01_WINDOW + 1)])
        quantization = graph.tensor(graph.inputs[0]).quantization
        scale, zero_point = quantization.scale[0], quantization.zero_point[0]
        return np.clip(np.round(windows / scale) + zero_point, -128, 127).astype(np.int8)
    return none
