"""Front end for torch.export archives (.pt2): any user model exported with one fixed-shape tensor input.

The archive is checked first (pt2_archive: no pickled code, no compiled libraries), then loaded with
torch.export.load. The input shape comes from the graph's user-input placeholder; a symbolic batch size becomes
1, any other symbolic size is refused (sapool plans memory for one fixed shape). A program exported for a fixed
batch size is wrapped in batching.AnyBatch so that it also runs on other batch sizes.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path

from sapool.errors import BadInputError, UnsupportedError
from sapool.frontends.loaded import TORCH_EXPORT, LoadedModel
from sapool.frontends.onnx.read import MAX_INPUT_ELEMENTS
from sapool.frontends.pt2_archive import check_plain_archive


def load_torch_export(path: Path) -> LoadedModel:
    """The exported program's module (a GraphModule already in inference form) and its input shape."""
    import torch

    check_plain_archive(path)
    try:
        with _quiet_torch_logs():  # torch logs a failed deserialisation's traceback itself: the Error line says it
            program = torch.export.load(path)
    except Exception as err:  # deserialisation errors come as many types (version, schema, missing ops)
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise BadInputError(f"{path}: cannot load the torch.export archive ({reason[:200]})") from None
    input_shape, dynamic_batch = _input_shape(path, program)
    module = program.module()
    _move_to_eval(module)
    if not dynamic_batch:
        from sapool.frontends.batching import AnyBatch

        module = AnyBatch(module, input_shape[0])
    return LoadedModel(
        kind=TORCH_EXPORT,
        path=path,
        module=module,
        input_shape=input_shape,
        description=f"torch.export archive: {_count_calls(program)} ops, input {list(input_shape)}",
    )


@contextmanager
def _quiet_torch_logs():
    import logging

    loggers = [logging.getLogger(name) for name in ("torch.export", "torch._export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _input_shape(path: Path, program) -> tuple[tuple[int, ...], bool]:
    """The input shape (symbolic batch → 1) and whether the batch was symbolic."""
    import torch

    user_inputs = program.graph_signature.user_inputs
    placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    values = [placeholders[name].meta.get("val") for name in user_inputs]
    if len(values) != 1 or not isinstance(values[0], torch.Tensor):
        raise UnsupportedError(f"{path}: the exported model takes {len(values)} inputs; sapool compiles models "
                               "with exactly one tensor input")
    if not values[0].is_floating_point():
        raise UnsupportedError(f"{path}: the model input is {values[0].dtype}; sapool compiles float-input models")
    shape, dynamic_batch = [], False
    for axis, size in enumerate(values[0].shape):
        if isinstance(size, int):
            shape.append(size)
        elif axis == 0:
            shape.append(1)
            dynamic_batch = True
        else:
            raise UnsupportedError(f"{path}: input dimension {axis} is dynamic ({size}); export with a fixed "
                                   "input shape (only the batch dimension may be dynamic)")
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise UnsupportedError(f"{path}: the input of shape {shape} has {math.prod(shape):,} elements; sapool "
                               f"compiles models whose input has at most {MAX_INPUT_ELEMENTS:,}")
    return tuple(shape), dynamic_batch


def _move_to_eval(module) -> None:
    """Rewrite training-form ops (dropout, batch-norm) to inference form (a no-op when exported in eval mode),
    and let `.eval()` / `.train(mode)` work on the module like on an eager one (an exported module raises on
    them; torchao's replacements switch dropout and batch-norm). They leave the `training` flag alone, so it is
    set here: callers that save and restore the mode read it."""
    from torchao.quantization.pt2e import allow_exported_model_train_eval, move_exported_model_to_eval

    move_exported_model_to_eval(module)
    allow_exported_model_train_eval(module)
    module.training = False


def _count_calls(program) -> int:
    return sum(1 for node in program.graph.nodes if node.op == "call_function")
