"""A model's inputs or outputs as one row of bytes per sample, the way the generated C reads and writes them.

One row is every graph input packed back to back in graph order, each in its own type (int8, or float32 at a
float interface), and the outputs likewise; the firmware harness and the host runner read each input of a row
straight into sapool_model_input(i), and inputs.bin, samples/inputs.bin and `--input FILE` carry such rows. These helpers convert between rows and the per-tensor arrays the
interpreters take, and express outputs in LSB so that int8 and dequantised float outputs compare alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sapool.errors import BadInputError
from sapool.ir.graph import Graph


def sample_shape(tensor) -> tuple[int, ...]:
    """One sample's shape: the tensor's without its batch dimension of 1 (the whole shape when it has none)."""
    return tensor.shape[1:] if tensor.shape[:1] == (1,) else tensor.shape


def row_bytes(graph: Graph, indices: Sequence[int]) -> int:
    """Bytes of one packed row of the tensors `indices` (e.g. graph.inputs)."""
    return sum(graph.tensor(i).nbytes for i in indices)


def pack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """(N, row bytes) int8: sample n of every array (first axis = sample), bytes back to back."""
    count = len(arrays[0])
    return np.concatenate([np.ascontiguousarray(a).reshape(count, -1).view(np.int8) for a in arrays], axis=1)


def unpack(graph: Graph, indices: Sequence[int], rows: np.ndarray) -> list[np.ndarray]:
    """Inverse of `pack` for the tensors `indices`: one (N, *sample_shape) array per tensor."""
    rows = np.ascontiguousarray(rows).view(np.int8).reshape(len(rows), -1)
    if rows.shape[1] != row_bytes(graph, indices):
        raise BadInputError(f"rows of {rows.shape[1]} bytes for tensors of {row_bytes(graph, indices)} bytes")
    arrays, offset = [], 0
    for index in indices:
        tensor = graph.tensor(index)
        part = np.ascontiguousarray(rows[:, offset:offset + tensor.nbytes])
        arrays.append(part.view(np.dtype(tensor.dtype).newbyteorder("<")).reshape(len(rows), *sample_shape(tensor)))
        offset += tensor.nbytes
    return arrays


def in_lsb(graph: Graph, indices: Sequence[int], arrays: Sequence[np.ndarray]) -> np.ndarray:
    """(N, elements) int64: the outputs `indices` in LSB of their int8 quantisation, back to back. An integer
    output is its value; a float32 output made by DEQUANTIZE is divided by that op's input scale and rounded
    (exact: its values are multiples of it), so one step of the int8 value it came from is 1 LSB either way."""
    producers = {out: op for op in graph.ops for out in op.outputs}
    parts = []
    for index, array in zip(indices, arrays, strict=True):
        array = np.asarray(array).reshape(len(array), -1)
        if np.issubdtype(array.dtype, np.integer):
            parts.append(array.astype(np.int64))
            continue
        producer = producers.get(index)
        step = 1.0
        if producer is not None and producer.opcode == "DEQUANTIZE":
            step = float(graph.tensor(producer.inputs[0]).quantization.scale[0])
        parts.append(np.rint(np.nan_to_num(array.astype(np.float64) / step)).astype(np.int64))
    return np.concatenate(parts, axis=1)
