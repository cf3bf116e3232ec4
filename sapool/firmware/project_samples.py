"""Real held-out inputs stored in a project by `sapool compile`, read back by `sapool emulate DIR`.

A model compiled from a checkpoint comes with its data set; the accuracy step already loads held-out (test-split)
images for it. The first STORED_COUNT of them are quantised with the int8 model's input parameters and packed
exactly as the harness reads inputs.bin (sapool.verify.packing), back to back in `samples/inputs.bin`; their
labels go into the manifest (`"samples"`), so emulation checks the firmware on real inputs and can say how many
it classified right. A .tflite or .onnx compiled without data stores none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.errors import BadInputError
from sapool.input_files import require_regular_file
from sapool.ir.graph import Graph
from sapool.verify.packing import pack, row_bytes

SAMPLES_FILE = "samples/inputs.bin"
STORED_COUNT = 10  # as many as `sapool emulate` runs by default, so its default run is all real inputs


@dataclass(frozen=True)
class StoredSamples:
    rows: np.ndarray  # (N, input bytes) int8: every graph input packed, as the firmware reads it
    labels: tuple[int, ...]  # one class index per row

    def manifest_entry(self) -> dict:
        return {"path": SAMPLES_FILE, "count": len(self.rows), "labels": list(self.labels)}


def pack_images(graph: Graph, images, labels) -> StoredSamples:
    """Float inputs prepared for the float model (as the accuracy step has them) → the int8 model's packed input
    rows: in its layout (NHWC for images), quantised as its input tensor says (kept float32 at a float
    interface)."""
    from sapool.quantize.int8_run import quantize
    from sapool.quantize.io_layout import to_int8_layout

    if len(graph.inputs) != 1:
        raise BadInputError(f"cannot store image samples for a model with {len(graph.inputs)} inputs")
    tensor = graph.tensor(graph.inputs[0])
    laid_out = to_int8_layout(np.asarray(images, dtype=np.float32))
    values = quantize(laid_out, tensor) if tensor.dtype == "int8" else laid_out.astype(tensor.dtype)
    return StoredSamples(pack([values]), tuple(int(label) for label in labels))


def read_stored_samples(folder: Path, entry: dict | None, graph: Graph) -> StoredSamples | None:
    """The samples the manifest's `entry` names (None when it names none); a file that is missing, truncated or
    does not hold `count` whole inputs of the model, or labels that do not match, is a BadInputError."""
    if entry is None:
        return None
    where = Path(folder) / "sapool_project.json"
    if not (isinstance(entry, dict) and isinstance(entry.get("path"), str) and isinstance(entry.get("count"), int)
            and isinstance(entry.get("labels"), list) and all(isinstance(x, int) for x in entry["labels"])):
        raise BadInputError(f"{where}: \"samples\" must be {{path, count, labels}}, got {entry!r}")
    path, count, labels = Path(folder) / entry["path"], entry["count"], tuple(entry["labels"])
    if Path(entry["path"]).is_absolute() or ".." in Path(entry["path"]).parts:
        raise BadInputError(f"{where}: samples path {entry['path']!r} is not inside the project")
    if path.exists() or path.is_symlink():
        require_regular_file(path, "stored samples file", max_bytes=1 << 30)
    try:
        data = np.fromfile(path, dtype=np.int8)
    except OSError as err:
        raise BadInputError(f"cannot read the project's stored samples {path}: {err.strerror or err}") from None
    input_bytes = row_bytes(graph, graph.inputs)
    if count < 1 or data.size != count * input_bytes:
        raise BadInputError(f"{path} has {data.size:,} bytes; the manifest names {count} inputs of {input_bytes:,} "
                            "bytes (corrupted or truncated: compile the model again)")
    if len(labels) != count:
        raise BadInputError(f"{where}: {len(labels)} labels for {count} stored samples")
    return StoredSamples(data.reshape(count, input_bytes), labels)
