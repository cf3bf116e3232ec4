"""torch module + calibration images → full-integer int8 .tflite bytes, through litert-torch 0.10's PT2E flow.

    torch.export (NHWC I/O via to_channel_last_io)  →  prepare_pt2e with sapool's Int8Annotator (annotate.py)
    →  run the calibration images through the observers  →  convert_pt2e (Q/DQ pairs)  →  litert_torch.convert
    (its STATIC Q/DQ mode folds every pair into an int8 op)  →  each FULLY_CONNECTED as RESHAPE → 1×1 CONV_2D →
    RESHAPE (sapool.passes.fc_as_conv: LiteRT's reference kernels, TFLite-Micro and the firmware then round alike)
    →  check the flatbuffer: int8 activations, no float op.

Measured on the shipped mcunet SAP checkpoint (one torch thread, CPU seconds): export 1.5 s, prepare and 200
calibration images 4.9 s, convert_pt2e and litert-torch's conversion 17.8 s (docs/quantization.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sapool.errors import BadInputError, UnsupportedError
from sapool.passes.fc_as_conv import lower_fully_connected
from sapool.quantize.origin import describe, source_origins
from sapool.quantize.threads import one_torch_thread

# int8 -> float; in the result it means part of the model stayed float (a requantising QUANTIZE is legal int8).
FLOAT_BOUNDARY_OPS = frozenset({"DEQUANTIZE"})
INTEGER_DTYPES = frozenset({"int8", "int32"})


@dataclass(frozen=True)
class QuantizedModel:
    """The int8 flatbuffer and what is in it: distinct op types in order of first use, and whether every
    activation is int8 (always True unless `quantize_to_tflite(require_int8=False)`)."""

    tflite: bytes
    ops: tuple[str, ...]
    all_int8: bool
    float_ops: tuple[str, ...] = ()  # "OPCODE (module …)" of the ops that are not int8
    seconds: dict = field(default_factory=dict, compare=False)  # time per conversion stage


def quantize_to_tflite(module, example_input_shape, calibration, *, progress=None,
                       require_int8: bool = True) -> QuantizedModel:
    """Quantise `module` (fixed input shape) to int8 TFLite with int8 input and output (NHWC for image inputs).

    `calibration` is an iterable of float batches in the module's input layout (e.g. calibration.calibration_batches(...)); `progress`
    is an optional rich.progress.Progress that gets a "calibrating" task. sapool SAP layers are switched to their
    export form for the conversion (and back). Raises UnsupportedError naming the op and module for anything
    without an int8 lowering (with `require_int8=False` a float remainder is reported in the result instead).
    """
    import litert_torch
    import torch
    from torchao.quantization.pt2e import quantize_pt2e

    from sapool.models.sap import sap_form
    from sapool.quantize.annotate import Int8Annotator

    from sapool.quantize.io_layout import int8_input_shape, is_image_shape

    shape = tuple(int(size) for size in example_input_shape)
    example = (torch.zeros(int8_input_shape(shape)),)
    clock = _Stopwatch()
    was_training = module.training
    module.eval()
    try:
        with sap_form(module, "export"), torch.no_grad():
            wrapped = (litert_torch.to_channel_last_io(module, args=[0]) if is_image_shape(shape)
                       else _named_wrapper(module))
            exported = _export(wrapped, example)
            clock.lap("export")
            prepared = quantize_pt2e.prepare_pt2e(exported, Int8Annotator(source_origins(module)))
            clock.lap("prepare")
            _calibrate(prepared, calibration, shape, progress)
            clock.lap("calibrate")
            quantized = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
            tflite, _ = lower_fully_connected(_convert_quietly(quantized, example, progress))
            clock.lap("convert")
    finally:
        module.train(was_training)
    return summarize(tflite, require_int8=require_int8, seconds=clock.seconds)


def summarize(tflite: bytes, *, require_int8: bool = True, seconds: dict | None = None) -> QuantizedModel:
    """Ops and int8 status of a flatbuffer; UnsupportedError for a float op when `require_int8`."""
    from sapool.ir.read import read_tflite_bytes

    graph = read_tflite_bytes(tflite, "quantized model")
    float_ops = []
    for op in graph.ops:
        dtypes = {graph.tensor(i).dtype for i in (*op.inputs, *op.outputs) if i is not None}
        if op.opcode in FLOAT_BOUNDARY_OPS or not dtypes <= INTEGER_DTYPES:
            float_ops.append(f"{op.opcode} ({describe(graph.tensor(op.outputs[0]).name)})")
    if float_ops and require_int8:
        raise UnsupportedError(f"no int8 lowering for {float_ops[0]}: the converter left it in float"
                               + (f" (and {len(float_ops) - 1} more float ops)" if len(float_ops) > 1 else ""))
    ops = tuple(dict.fromkeys(op.opcode for op in graph.ops))
    return QuantizedModel(tflite, ops, not float_ops, tuple(float_ops), dict(seconds or {}))


def _named_wrapper(module):
    """`module` held as `.wrapped`, as to_channel_last_io holds an image model: the converter names every tensor
    after that module stack, which quantize.origin reads back into the user's module paths."""
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.wrapped = inner

        def forward(self, x):
            return self.wrapped(x)

    return Wrapper(module)


def _export(wrapped, example):
    import torch

    try:
        return torch.export.export(wrapped, example).module()
    except Exception as err:  # torch.export raises many types for data-dependent or untraceable code
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        inner = getattr(wrapped, "wrapped", wrapped)  # inside to_channel_last_io's wrapper, for image models
        raise UnsupportedError(f"torch.export cannot capture {type(inner).__name__}: "
                               f"{first_line[:200]}") from err


def _calibrate(prepared, calibration, shape: tuple[int, ...], progress) -> None:
    """Run every batch through the observers, in the exported model's layout (io_layout: NCHW images → NHWC), on
    one torch thread (sapool.quantize.threads)."""
    from sapool.quantize.io_layout import to_int8_layout

    batches = list(calibration)
    if not batches:
        raise BadInputError("calibration data is empty")
    for batch in batches:
        if tuple(batch.shape[1:]) != shape[1:]:
            raise BadInputError(f"calibration batch of shape {tuple(batch.shape)} does not match the model input "
                                f"{'×'.join(map(str, shape))}")
    task = progress.add_task("calibrating", total=len(batches)) if progress is not None else None
    with one_torch_thread():
        for batch in batches:
            for image in batch.split(1):
                prepared(to_int8_layout(image))
            if task is not None:
                progress.advance(task)


def _convert_quietly(quantized, example, progress) -> bytes:
    """litert_torch.convert without its own progress lines and torch's internal warnings on the terminal (the
    caller's `progress` shows one "converting" task instead)."""
    import warnings

    import litert_torch
    from litert_torch import _config

    task = progress.add_task("converting to int8 TFLite", total=None) if progress is not None else None
    for submodule in quantized.modules():  # the Q/DQ graph refuses .eval(); litert-torch warns on training=True
        submodule.training = False
    shown = _config.config.show_progress
    _config.config.show_progress = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return litert_torch.convert(quantized, example, quant_config=_static_qdq()).model_content()
    finally:
        _config.config.show_progress = shown
        if task is not None:
            progress.update(task, total=1, completed=1)


def _static_qdq():
    """litert-torch picks its STATIC Q/DQ lowering from a QuantConfig holding a static PT2EQuantizer; the
    quantizer itself is not used (annotation is done by then), only its mode."""
    from litert_torch.quantize import pt2e_quantizer, quant_config

    static = pt2e_quantizer.PT2EQuantizer().set_global(pt2e_quantizer.get_symmetric_quantization_config())
    return quant_config.QuantConfig(pt2e_quantizer=static)


class _Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._last, 3)
        self._last = now
