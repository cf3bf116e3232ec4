"""Inputs to verify a model on: the real samples shipped next to it where there are some, else seeded random.

The MLPerf Tiny models in ../shared/models/mlperf_tiny come with a few real inputs under `samples/` (see that
folder's README): kws has one int8 input; ad01 has one float spectrogram of 200 frames x 128 bins, from which
every 5-frame window (196 of them) is one model input, quantised with the model's input parameters. Any other
model gets seeded random inputs, so runs are reproducible: int8 values over the whole range, and for a float32
input (a float interface) values over the range its QUANTIZE can represent and a tenth beyond.
A project compiled from a checkpoint carries its own real inputs instead (sapool.firmware.project_samples), which
`sapool emulate DIR` passes in as `stored`.
Inputs are rows of bytes, every graph input packed back to back in graph order (sapool.verify.packing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.errors import BadInputError
from sapool.input_files import require_regular_file
from sapool.ir.graph import Graph
from sapool.verify.packing import pack, row_bytes, sample_shape

KWS_SAMPLE = Path("samples/kws01/kws_sample0_int8.bin")
AD01_SPECTROGRAM = Path("samples/ad01/normal_id_01_00000000_hist_librosa.bin")
AD01_FRAMES, AD01_BINS, AD01_WINDOW = 200, 128, 5


@dataclass(frozen=True)
class Inputs:
    data: np.ndarray  # (N, input bytes) int8: the graph inputs' bytes packed in graph order
    shipped: int  # how many of them are real samples (the first ones)
    description: str


def model_inputs(model_path: Path, graph: Graph, count: int, *, seed: int = 0,
                 stored: np.ndarray | None = None) -> Inputs:
    """`count` inputs for the model at `model_path`: its shipped samples first (`stored`, packed rows, when given:
    the held-out inputs a compiled project carries), then seeded random ones."""
    if count < 1:
        raise BadInputError(f"--inputs must be at least 1, got {count}")
    input_bytes = row_bytes(graph, graph.inputs)
    shipped = (stored if stored is not None else _shipped_samples(Path(model_path), graph, input_bytes))[:count]
    random = _random_rows(graph, count - len(shipped), seed)
    parts = []
    if len(shipped):
        origin = " stored by sapool compile" if stored is not None else ""
        parts.append(f"{len(shipped)} shipped sample{'s' if len(shipped) != 1 else ''}{origin}")
    if len(random):
        parts.append(f"{len(random)} seeded random (seed {seed})")
    return Inputs(np.concatenate([shipped, random]), len(shipped), " + ".join(parts))


MAX_INPUT_FILE_BYTES = 16 << 20  # what one emulation run takes (firmware.emulator.MAX_INPUT_BLOCK_BYTES)


def inputs_from_file(path: Path, graph: Graph) -> Inputs:
    """Raw inputs back to back (a whole number of the model's packed input size)."""
    input_bytes = row_bytes(graph, graph.inputs)
    require_regular_file(path, "--input file", max_bytes=MAX_INPUT_FILE_BYTES)
    try:
        data = np.fromfile(path, dtype=np.int8)
    except OSError as err:
        raise BadInputError(f"cannot read --input {path}: {err.strerror or err}") from None
    if data.size == 0 or data.size % input_bytes:
        raise BadInputError(
            f"--input {path} has {data.size} bytes, not a whole number of inputs of {input_bytes} bytes (raw, every "
            "graph input packed)"
        )
    return Inputs(data.reshape(-1, input_bytes), 0, f"{data.size // input_bytes} from {path}")


def random_inputs(graph: Graph, count: int, seed: int = 0) -> list[np.ndarray]:
    """`count` seeded random samples of every graph input, one (count, *packing.sample_shape) array per input."""
    rng = np.random.default_rng(seed)
    arrays = []
    for index in graph.inputs:
        tensor = graph.tensor(index)
        size = (count, *sample_shape(tensor))
        if tensor.dtype == "int8":
            arrays.append(rng.integers(-128, 128, size=size, dtype=np.int8))
        else:
            low, high = _float_range(graph, index)
            arrays.append(rng.uniform(low, high, size=size).astype(tensor.dtype))
    return arrays


def _random_rows(graph: Graph, count: int, seed: int) -> np.ndarray:
    return pack(random_inputs(graph, count, seed)) if count else np.zeros((0, row_bytes(graph, graph.inputs)), np.int8)


def _float_range(graph: Graph, index: int) -> tuple[float, float]:
    """What the first QUANTIZE reading float input `index` can represent, widened by a tenth; else [-1, 1]."""
    for op in graph.ops:
        if op.opcode == "QUANTIZE" and op.inputs[0] == index:
            quantization = graph.tensor(op.outputs[0]).quantization
            scale, zero_point = quantization.scale[0], quantization.zero_point[0]
            low, high = (-128 - zero_point) * scale, (127 - zero_point) * scale
            margin = (high - low) / 10
            return low - margin, high + margin
    return -1.0, 1.0


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
        from sapool.quantize.int8_run import quantize

        return quantize(windows, graph.tensor(graph.inputs[0]))
    return none
