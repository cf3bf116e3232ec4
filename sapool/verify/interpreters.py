"""Run an int8 .tflite on a batch of inputs in TFLite's reference kernels or in TFLite-Micro, in a subprocess.

Interpreters are C++ libraries: a hostile or broken model can crash them (TFLite-Micro dereferences whatever
the flatbuffer says, it does not verify it). So every run happens in a child Python process
(`sapool/verify/worker.py`): one process per batch, arrays passed through a temporary folder as .npy/.npz. A
crash, a hang or an interpreter error comes back as one sapool error line:
- the model cannot be read, or an interpreter refuses to load it: BadInputError (exit 2);
- TFLite-Micro cannot fit it in the given arena: DoesNotFitError (exit 1);
- the interpreter crashes on it (a signal: something in the file it cannot handle): BadInputError (exit 2);
- it fails while running or exceeds the timeout: VerificationError (exit 1);
- the interpreter package is not installed: MissingToolError (exit 3, with the pip command).

Engines: "litert-ref" is ai-edge-litert with `OpResolverType.BUILTIN_REF` (TFLite's reference kernels, the
oracle); "tflm" is TFLite-Micro's Python interpreter (its reference kernels, what a TFLM firmware runs).
Every graph input and output has a first dimension of 1 (the batch); a model may have several of each, of any
type the interpreters take (int8, or float32 at a float interface).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.backends.tflm.offline_plan import strip_offline_plan
from sapool.errors import BadInputError, DoesNotFitError, MissingToolError, UnsupportedError, VerificationError
from sapool.ir.graph import Graph
from sapool.ir.read import read_tflite_bytes
from sapool.verify import worker
from sapool.verify.litert_compat import normalise_for_litert

ENGINES = ("litert-ref", "tflm")
ENGINE_NAMES = {"litert-ref": "LiteRT (reference kernels)", "tflm": "TFLite-Micro"}
DEFAULT_TFLM_ARENA_BYTES = 64 * 1024 * 1024  # generous: the arena is only reserved, pages unused stay untouched
STDERR_TAIL_LINES = 3


@dataclass(frozen=True)
class RunResult:
    """`outputs`: graph output 0, (N, *output shape without its batch dim); `all_outputs`: every graph output so;
    `intermediates`: tensor index → (N, *tensor shape)."""

    all_outputs: tuple[np.ndarray, ...]
    intermediates: dict[int, np.ndarray] | None

    @property
    def outputs(self) -> np.ndarray:
        return self.all_outputs[0]


def reference_model(tflite: bytes, rounding: str) -> bytes:
    """The model LiteRT's reference kernels should run to be the oracle of firmware built with `rounding`: with
    "tflm" each int8 FULLY_CONNECTED as RESHAPE → 1×1 CONV_2D → RESHAPE, so the reference kernels round it as
    TFLite-Micro does (sapool.passes.fc_as_conv); with "tflite" the model itself."""
    if rounding != "tflm":
        return tflite
    from sapool.passes.fc_as_conv import lower_fully_connected

    return lower_fully_connected(tflite)[0]


def run_model(
    model: bytes | Path,
    inputs: np.ndarray | Sequence[np.ndarray],
    engine: str = "litert-ref",
    *,
    intermediates: bool = False,
    arena_size: int | None = None,
    timeout_s: float = 300,
) -> RunResult:
    """Run `model` on every sample of `inputs` (N, *input shape without its batch dim) with `engine`; a model
    with several inputs takes a sequence of such arrays, one per graph input in order.

    `intermediates=True` also returns every activation tensor (all non-constant tensors, e.g. for per-layer
    error reports). `arena_size` is TFLite-Micro's arena in bytes (default 64 MiB; ignored by litert-ref).
    TFLM keeps all tensors only with its linear planner, which refuses an offline memory plan, so for tflm
    intermediates the model runs without its offline plan (which moves tensors, not values).
    """
    if engine not in ENGINES:
        raise BadInputError(f"unknown interpreter '{engine}'; choose one of: {', '.join(ENGINES)}")
    data, graph = _load(model)
    batch = _check_inputs(graph, inputs)
    if engine == "tflm" and intermediates:
        data = strip_offline_plan(data)
    if engine != "tflm":
        data, _ = normalise_for_litert(data)
    request = {
        "task": "run",
        "engine": engine,
        "arena_size": DEFAULT_TFLM_ARENA_BYTES if arena_size is None else int(arena_size),
        "intermediates": [t.index for t in graph.activations()] if intermediates else [],
        "outputs": len(graph.outputs),
    }
    with tempfile.TemporaryDirectory(prefix="sapool-verify-") as folder:
        result = _call_worker(Path(folder), data, batch, request, ENGINE_NAMES[engine], graph.name, timeout_s)
        with np.load(result / "result.npz") as arrays:
            outputs = tuple(arrays[f"o{k}"] for k in range(len(graph.outputs)))
            saved = {int(key[1:]): arrays[key] for key in arrays.files if key.startswith("t")}
    return RunResult(all_outputs=outputs, intermediates=saved if intermediates else None)


def smallest_tflm_arena(model: bytes | Path, sample: np.ndarray | None = None, *, timeout_s: float = 300) -> int:
    """The smallest `arena_size` with which TFLite-Micro's Python interpreter loads `model` and runs `sample`.

    Found by bisection in one subprocess (about 20 interpreter set-ups); `sample` defaults to zeros.
    """
    data, graph = _load(model)
    if sample is None:
        sample = [np.zeros(graph.tensor(i).shape[1:], graph.tensor(i).dtype) for i in graph.inputs]
    batch = _check_inputs(graph, [np.asarray(array)[np.newaxis] for array in _per_input(graph, sample)])
    with tempfile.TemporaryDirectory(prefix="sapool-verify-") as folder:
        result = _call_worker(Path(folder), data, batch, {"task": "smallest_arena"}, "TFLite-Micro", graph.name,
                              timeout_s)
        return json.loads((result / "result.json").read_text())["arena_bytes"]


def _load(model: bytes | Path) -> tuple[bytes, Graph]:
    """The model's bytes and its Graph; the reader rejects corrupt files before any interpreter sees them."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
        return data, read_tflite_bytes(data, "model")
    path = Path(model)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return data, read_tflite_bytes(data, path.name)


def _per_input(graph: Graph, inputs) -> list:
    """`inputs` as one entry per graph input: a lone array stands for the only input."""
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(inputs) != len(graph.inputs):
        raise BadInputError(f"{graph.name}: {len(inputs)} input arrays for a model with {len(graph.inputs)} inputs")
    return inputs


def _check_inputs(graph: Graph, inputs) -> list[np.ndarray]:
    for index in (*graph.inputs, *graph.outputs):
        shape = graph.tensor(index).shape
        if not shape or shape[0] != 1:
            raise UnsupportedError(f"{graph.name}: tensor '{graph.tensor(index).name}' of shape {list(shape)} has "
                                   "no batch dimension of 1")
    arrays, counts = [], set()
    for index, batch in zip(graph.inputs, _per_input(graph, inputs), strict=True):
        source, batch = graph.tensor(index), np.asarray(batch)
        expected = (batch.shape[0] if batch.ndim else 0, *source.shape[1:])
        if batch.ndim == 0 or batch.shape != expected or batch.shape[0] == 0:
            raise BadInputError(f"{graph.name}: inputs have shape {list(batch.shape)}, expected "
                                f"[N, {', '.join(map(str, source.shape[1:]))}] with N >= 1")
        if batch.dtype != np.dtype(source.dtype):
            raise BadInputError(f"{graph.name}: inputs are {batch.dtype}, the model's input is {source.dtype}")
        arrays.append(np.ascontiguousarray(batch))
        counts.add(batch.shape[0])
    if len(counts) > 1:
        raise BadInputError(f"{graph.name}: the input arrays hold different numbers of samples ({sorted(counts)})")
    return arrays


def _call_worker(folder: Path, data: bytes, inputs: list[np.ndarray], request: dict, engine: str,
                 model_name: str, timeout_s: float) -> Path:
    """Run the worker on one request in `folder`; return the folder holding its result, or raise."""
    (folder / "model.tflite").write_bytes(data)
    np.savez(folder / "inputs.npz", **{f"i{k}": batch for k, batch in enumerate(inputs)})
    (folder / "request.json").write_text(json.dumps(request))
    command = [sys.executable, worker.__file__, str(folder)]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise VerificationError(f"{engine} did not finish {model_name} within {timeout_s:g} s") from None
    if finished.returncode == 0:
        return folder
    error_file = folder / "error.json"
    if finished.returncode == 1 and error_file.is_file():
        error = json.loads(error_file.read_text())
        message = f"{model_name}: {error['message']}{_stderr_hint(finished.stderr)}"
        kinds = {worker.LOAD: BadInputError, worker.ARENA: DoesNotFitError, worker.MISSING: MissingToolError}
        raise kinds.get(error["kind"], VerificationError)(message)
    if finished.returncode < 0:  # the file made the interpreter itself crash: something in it is malformed
        raise BadInputError(f"{engine} crashed ({signal.Signals(-finished.returncode).name}) on {model_name}: "
                            f"the model has something this interpreter cannot handle{_stderr_hint(finished.stderr)}")
    raise VerificationError(f"{engine} exited with status {finished.returncode} on {model_name}"
                            f"{_stderr_hint(finished.stderr)}")


def _stderr_hint(stderr: str) -> str:
    """The interpreter's last few stderr lines (TFLite-Micro explains allocation failures only there)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith(("Traceback", "  "))]
    return f" ({'; '.join(lines[-STDERR_TAIL_LINES:])})" if lines else ""
