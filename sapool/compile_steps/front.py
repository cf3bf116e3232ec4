"""The front steps of `sapool compile`: load the model, calibrate and quantise it to int8, read the int8 graph.

An int8 .tflite skips calibration and quantisation. Everything here is in memory: nothing is written.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager, redirect_stdout

from sapool.compile_steps.chatter import progress_display
from sapool.compile_steps.job import CompileJob


def load(job: CompileJob) -> str:
    """Check the target and planner first (cheap), then load the model through the front end its file needs.
    A request without a target or output folder (`sapool validate`) only loads."""
    from sapool.frontends import load_model
    from sapool.planning import check_planner
    from sapool.targets import get_target

    request = job.request
    if request.target is not None:
        job.target = get_target(request.target)
    check_planner(request.planner)
    job.loaded = load_model(request.model)
    return f"{job.loaded.kind}: {job.loaded.description}"


def needs_quantisation(job: CompileJob) -> bool:
    return job.loaded.is_torch


def calibrate(job: CompileJob) -> str:
    """Calibration images: --calib, else the data set the checkpoint records, normalised as it records."""
    from sapool.quantize.calibration import calibration_batches

    request, loaded = job.request, job.loaded
    job.model_input = _model_input(job)
    job.calibration = calibration_batches(job.model_input, data=request.calib, recorded_dataset=loaded.dataset,
                                          samples=request.calib_samples)
    if job.calibration.warning:
        job.warnings.append(job.calibration.warning)
    return f"{len(job.calibration)} images from {job.calibration.source}"


def _model_input(job: CompileJob):
    from sapool.quantize.images import ModelInput

    request, loaded = job.request, job.loaded
    if request.calib_mean is not None or request.calib_std is not None or loaded.normalization is None:
        return ModelInput.of(loaded.input_shape, request.calib_mean, request.calib_std)
    return ModelInput(tuple(loaded.input_shape), loaded.normalization)


def quantize(job: CompileJob) -> str:
    from sapool.quantize.convert import quantize_to_tflite

    with converter_chatter(job.request.quiet), progress_display(job) as progress:
        job.quantized = quantize_to_tflite(job.loaded.module, job.loaded.input_shape, job.calibration,
                                           progress=progress)
    job.tflite = job.quantized.tflite
    return f"{len(job.tflite):,} B int8 flatbuffer, ops: {', '.join(job.quantized.ops)}"


def read_int8_graph(job: CompileJob) -> str:
    """The Graph every later step reads; an int8 .tflite's bytes come straight from the front end."""
    from sapool.ir.read import read_tflite_bytes
    from sapool.verify.litert_compat import normalisation_note, normalise_for_litert

    if job.tflite is None:
        job.tflite = job.loaded.tflite
    job.graph = read_tflite_bytes(job.tflite, job.request.model.name)
    _, normalised = normalise_for_litert(job.tflite)
    if normalised:
        job.warnings.append(normalisation_note(normalised))
    activations = job.graph.activations()
    return f"{len(job.graph.ops)} ops, {len(activations)} activation tensors"


@contextmanager
def converter_chatter(quiet: bool):
    """Where the converter's own progress lines go while it runs: stderr, or nowhere with -q / --format json.

    torch.export, torchao and LiteRT print on stdout from Python and from C++ (file descriptor 1); stdout is
    reserved for sapool's result, which `--format json` makes machine-read, so both levels are redirected.
    """
    sys.stdout.flush()
    sink = open(os.devnull, "w") if quiet else None  # noqa: SIM115 (closed below)
    target_fd = sink.fileno() if sink else 2
    saved = os.dup(1)
    try:
        os.dup2(target_fd, 1)
        with redirect_stdout(sink or sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        if sink:
            sink.close()
