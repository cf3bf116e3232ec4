"""`sapool validate`: score any model on labelled data: float and int8 where a float model exists, int8 alone for
an int8 .tflite, and the per-layer int8 vs float error.

The int8 model is the one `sapool compile` makes: the front steps of compile's pipeline (load, calibrate,
quantize, read; sapool.pipeline.run_steps) run unchanged, calibrated on `--calib`, else on the data set the
checkpoint records (compile's default, so both score the same int8 model), else on the validation samples
themselves (said in a warning). The data are loaded and checked against the model before anything is quantised,
so data that does not fit costs no conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sapool.validate.metrics import classification, regression, top1_agreement
from sapool.validate.report import ValidationReport
from sapool.validate.samples import CLASSIFICATION, Samples, load_samples, model_side

DEFAULT_SAMPLES = 1000
DEFAULT_LAYER_SAMPLES = 16
FLOAT_BATCH = 100
INT8_BATCH = 250
SELF_CALIBRATION_WARNING = ("calibrated on the validation samples themselves (no --calib and no data set recorded "
                            "in the model): int8 scores may be a little optimistic")


@dataclass(frozen=True)
class ValidationRequest:
    model: Path
    data: str
    samples: int = DEFAULT_SAMPLES
    calib: str | None = None
    calib_samples: int = 200
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    layer_samples: int = DEFAULT_LAYER_SAMPLES
    quiet: bool = False
    verbose: bool = False  # show third-party output (torch, LiteRT) instead of hiding it, as compile -v


def validate_model(request: ValidationRequest) -> ValidationReport:
    from sapool.compile_steps.chatter import progress_display, third_party_output
    from sapool.compile_steps.job import CompileJob, CompileRequest
    from sapool.pipeline import run_steps

    job = CompileJob(CompileRequest(model=request.model, target=None, output=None, calib=request.calib,
                                    calib_samples=request.calib_samples, calib_mean=request.mean,
                                    calib_std=request.std, quiet=request.quiet,
                                    verbose=request.verbose))
    run_steps(job, ("load",))
    loaded = job.loaded
    samples = load_samples(request.data, model_side(loaded, request.mean, request.std), request.samples)
    warnings = []
    if loaded.is_torch:
        if request.calib is None and loaded.dataset is None:
            job.calibration = _self_calibration(samples, request.calib_samples)
            warnings.append(SELF_CALIBRATION_WARNING)
            run_steps(job, ("quantize", "read"))
        else:
            run_steps(job, ("calibrate", "quantize", "read"))
            if job.calibration.warning:
                warnings.append(job.calibration.warning)
    else:
        run_steps(job, ("read",))
    with third_party_output(request.verbose) as job.terminal, progress_display(job) as progress:
        float_outputs = _float_outputs(loaded.module, samples.inputs, progress) if loaded.is_torch else None
        int8_outputs = _int8_outputs(job, samples.inputs, progress)
        layers = _layer_errors(job, samples.inputs[:request.layer_samples]) if loaded.is_torch else ()
    return _report(request, job, samples, float_outputs, int8_outputs, layers, warnings)


def _self_calibration(samples: Samples, count: int):
    import torch

    from sapool.quantize.calibration import CalibrationSet

    chosen = samples.inputs[:count]
    return CalibrationSet(tuple(torch.from_numpy(sample[None]) for sample in chosen),
                          f"the validation samples ({len(chosen)})")


def _float_outputs(module, inputs: np.ndarray, progress) -> np.ndarray:
    import torch

    from sapool.quantize.threads import one_torch_thread

    task = progress.add_task("float model", total=len(inputs))
    module.eval()
    outputs = []
    with torch.no_grad(), one_torch_thread():
        for start in range(0, len(inputs), FLOAT_BATCH):
            batch = torch.from_numpy(inputs[start:start + FLOAT_BATCH])
            result = module(batch)
            outputs.append((result[0] if isinstance(result, (tuple, list)) else result).numpy())
            progress.advance(task, len(batch))
    return np.concatenate(outputs).reshape(len(inputs), -1)


def _int8_outputs(job, inputs: np.ndarray, progress) -> np.ndarray:
    """TFLite's reference kernels on the int8 model (in a subprocess per chunk, sapool.quantize.int8_run)."""
    from sapool.quantize.int8_run import run_int8

    task = progress.add_task("int8 model (TFLite reference kernels)", total=len(inputs))
    outputs = []
    for start in range(0, len(inputs), INT8_BATCH):
        chunk = inputs[start:start + INT8_BATCH]
        outputs.append(run_int8(job.tflite, job.graph, chunk, channels_first=job.loaded.is_torch).outputs)
        progress.advance(task, len(chunk))
    return np.concatenate(outputs).reshape(len(inputs), -1)


def _layer_errors(job, sample: np.ndarray):
    from sapool.quantize.int8_run import run_int8
    from sapool.quantize.layer_error import layer_errors

    activations = run_int8(job.tflite, job.graph, sample, intermediates=True).intermediates
    return layer_errors(job.loaded.module, job.graph, sample, activations)


def _report(request, job, samples: Samples, float_outputs, int8_outputs, layers, warnings) -> ValidationReport:
    loaded = job.loaded
    scores = {}
    for engine, outputs in (("float", float_outputs), ("int8", int8_outputs)):
        if outputs is None:
            continue
        scores[engine] = (classification(outputs, samples.targets, samples.class_names)
                          if samples.task == CLASSIFICATION else regression(outputs, samples.targets))
    agreement = None
    if float_outputs is not None:
        agreement = (top1_agreement(float_outputs, int8_outputs) if samples.task == CLASSIFICATION
                     else regression(int8_outputs, float_outputs).mean_abs_error)
    calibration = job.calibration.source if job.calibration is not None else None
    return ValidationReport(model=str(request.model), model_kind=loaded.kind, data=samples.source,
                            samples=len(samples.targets), task=samples.task, scores=scores, agreement=agreement,
                            layers=tuple(layers), calibration=calibration, int8_ops=len(job.graph.ops),
                            warnings=tuple(warnings))
