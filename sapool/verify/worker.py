"""The subprocess side of `sapool.verify.interpreters`: run one model on one batch in one interpreter.

Run as `python -m sapool.verify.worker REQUEST_DIR`. The folder holds `model.tflite`, `inputs.npz` ("i<k>" for
graph input k, the batch, first axis = sample) and `request.json` {engine, arena_size, intermediates: [tensor
indices], task}. The worker writes `result.npz` ("o<k>" for graph output k, and "t<index>" per intermediate
tensor, each with the sample axis first) and exits 0. An error the interpreter reports as an exception is written to `error.json` {kind, message} and
the worker exits 1; kind is "load" (the interpreter refused the model), "arena" (TFLite-Micro could not fit
the model in the given arena), "run", or "missing" (the interpreter package is not installed). A crash (segfault, abort) simply kills this process: the parent sees
the signal. Task "smallest_arena" bisects TFLite-Micro's smallest working arena instead and writes
`result.json` {arena_bytes}.

Only the interpreters and numpy are imported here, so a request costs about a third of a second of start-up.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

LOAD, ARENA, RUN, MISSING = "load", "arena", "run", "missing"
INSTALL = {"ai_edge_litert": "pip install ai-edge-litert==2.3.0",
           "tflite_micro": "pip install --pre tflite-micro==0.dev20261023182759"}
HUGE_ARENA_BYTES = 1 << 30  # malloc'ed but never touched beyond what the model uses


class WorkerError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def run_litert_ref(model: bytes, inputs: list[np.ndarray], intermediates: list[int]):
    """TFLite's reference kernels (BUILTIN_REF); all tensors preserved when intermediates are asked for."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interpreter = Interpreter(
            model_content=model,
            experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
            experimental_preserve_all_tensors=bool(intermediates),
        )
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise WorkerError(LOAD, f"LiteRT refused the model: {_first_line(exc)}") from None
    input_indices = [detail["index"] for detail in interpreter.get_input_details()]
    output_indices = [detail["index"] for detail in interpreter.get_output_details()]
    outputs, saved = [], {index: [] for index in intermediates}
    for n in range(len(inputs[0])):
        try:
            for index, batch in zip(input_indices, inputs, strict=True):
                interpreter.set_tensor(index, batch[n][np.newaxis])
            interpreter.invoke()
        except (RuntimeError, ValueError) as exc:
            raise WorkerError(RUN, f"LiteRT failed to run the model: {_first_line(exc)}") from None
        outputs.append([interpreter.get_tensor(index)[0] for index in output_indices])
        for index in intermediates:
            saved[index].append(interpreter.get_tensor(index))
    return outputs, saved


def run_tflm(model: bytes, inputs: list[np.ndarray], intermediates: list[int], arena_size: int, output_count: int):
    """TFLite-Micro's Python interpreter (reference kernels); all tensors preserved for intermediates."""
    interpreter = _tflm_interpreter(model, arena_size, preserve=bool(intermediates))
    outputs, saved = [], {index: [] for index in intermediates}
    for n in range(len(inputs[0])):
        try:
            for k, batch in enumerate(inputs):
                interpreter.set_input(batch[n][np.newaxis], k)
            interpreter.invoke()
        except (RuntimeError, ValueError) as exc:
            raise WorkerError(RUN, f"TFLite-Micro failed to run the model: {_first_line(exc)}") from None
        outputs.append([interpreter.get_output(k)[0] for k in range(output_count)])
        for index in intermediates:
            saved[index].append(interpreter.GetTensor(index, 0)["tensor_data"])
    return outputs, saved


def smallest_tflm_arena(model: bytes, sample: list[np.ndarray]) -> int:
    """The smallest arena_size (bytes) with which TFLite-Micro loads the model and runs `sample`, by bisection.

    Works because a larger arena never fails where a smaller one succeeded. TFLM can crash (not just fail) when
    the arena is too small for its own temporary allocations, so every probe runs in a forked child.
    """
    low, high = 0, 1 << 12  # invariant once found: low fails (an empty arena always does), high works
    while not _probe(model, sample, high):
        if high >= HUGE_ARENA_BYTES:
            _tflm_interpreter(model, high, preserve=False)  # raises TFLM's own error, if it has one
            raise WorkerError(RUN, f"TFLite-Micro fails to run the model even with a {high}-byte arena")
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _probe(model, sample, middle) else (middle, high)
    return high


def _probe(model: bytes, sample: np.ndarray, arena_size: int) -> bool:
    """True when TFLM starts and runs `sample` with `arena_size` bytes, tried in a forked child process."""
    child = os.fork()
    if child == 0:
        try:
            interpreter = _tflm_interpreter(model, arena_size, preserve=False, diagnose=False)
            for k, array in enumerate(sample):
                interpreter.set_input(array[np.newaxis], k)
            interpreter.invoke()
            code = 0
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(child, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _tflm_interpreter(model: bytes, arena_size: int, *, preserve: bool, diagnose: bool = True):
    """TFLite-Micro's interpreter with `arena_size` bytes; raises WorkerError ARENA or LOAD when it cannot start.

    TFLM reports every set-up failure as the same RuntimeError (details go to stderr), so a failure is retried
    with a huge arena: if that works, the given arena was too small (`diagnose=False` skips the retry).
    """
    from tflite_micro.python.tflite_micro import runtime

    config = runtime.InterpreterConfig.kPreserveAllTensors if preserve else runtime.InterpreterConfig.kAllocationRecording
    try:
        return runtime.Interpreter.from_bytes(model, arena_size=arena_size, intrepreter_config=config)
    except (RuntimeError, ValueError) as exc:
        failure = exc
    if diagnose and arena_size < HUGE_ARENA_BYTES:
        try:
            runtime.Interpreter.from_bytes(model, arena_size=HUGE_ARENA_BYTES, intrepreter_config=config)
        except (RuntimeError, ValueError):
            pass
        else:
            raise WorkerError(ARENA, f"TFLite-Micro cannot fit the model in a {arena_size}-byte arena")
    raise WorkerError(LOAD, f"TFLite-Micro refused the model: {_first_line(failure)}")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def main(folder: Path) -> int:
    request = json.loads((folder / "request.json").read_text())
    model = (folder / "model.tflite").read_bytes()
    with np.load(folder / "inputs.npz") as arrays:
        inputs = [arrays[f"i{k}"] for k in range(len(arrays.files))]
    try:
        if request["task"] == "smallest_arena":
            arena = smallest_tflm_arena(model, [batch[0] for batch in inputs])
            (folder / "result.json").write_text(json.dumps({"arena_bytes": arena}))
            return 0
        intermediates = request["intermediates"]
        if request["engine"] == "tflm":
            outputs, saved = run_tflm(model, inputs, intermediates, request["arena_size"], request["outputs"])
        else:
            outputs, saved = run_litert_ref(model, inputs, intermediates)
    except ModuleNotFoundError as exc:
        package = (exc.name or "").split(".")[0]
        message = f"the {package} package is not installed: {INSTALL.get(package, 'pip install ' + package)}"
        (folder / "error.json").write_text(json.dumps({"kind": MISSING, "message": message}))
        return 1
    except WorkerError as exc:
        (folder / "error.json").write_text(json.dumps({"kind": exc.kind, "message": str(exc)}))
        return 1
    arrays = {f"o{k}": np.stack([sample[k] for sample in outputs]) for k in range(len(outputs[0]))}
    arrays.update({f"t{index}": np.stack(values) for index, values in saved.items()})
    np.savez(folder / "result.npz", **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
