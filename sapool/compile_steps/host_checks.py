"""Host-side checks of the int8 model: accuracy against the float model, and the two interpreters compared.

Both interpreters run in a subprocess (sapool.verify.interpreters), so a crash inside one is an error line.
TFLite's reference kernels (ai-edge-litert, BUILTIN_REF) are the ground truth; the TFLite-Micro interpreter is
compared with them, and its known 1-LSB FULLY_CONNECTED differences are reported as such, not hidden.
"""

from __future__ import annotations

from dataclasses import replace

from sapool.compile_steps.inputs import verification_inputs
from sapool.compile_steps.job import CompileJob


def has_held_out_data(job: CompileJob) -> bool:
    """Accuracy needs held-out images: --eval, the --calib data set, or the recorded one; and the float model,
    except that an int8 .tflite given --eval is scored in int8 alone (data that does not fit it is an error)."""
    if job.quantized is None:
        return job.request.eval_data is not None
    return _evaluation_source(job) is not None


def no_held_out_data(job: CompileJob) -> str | None:
    """Why the accuracy step is skipped, when the user would expect it (a float model and no images)."""
    if job.quantized is not None:
        return "float vs int8 accuracy not measured: no held-out images (pass --eval DATA)"
    return None


def _evaluation_source(job: CompileJob) -> str | None:
    request = job.request
    calib = request.calib if request.calib != "random" else None
    return request.eval_data or calib or job.loaded.dataset


def accuracy(job: CompileJob) -> str:
    """Float (torch) vs int8 (TFLite reference kernels) top-1 on the same held-out images, and per-layer error.
    The first few images are kept, to be stored in the firmware project for `sapool emulate DIR`."""
    from sapool.compile_steps.chatter import progress_display
    from sapool.firmware.project_samples import STORED_COUNT
    from sapool.quantize.accuracy import accuracy_report, evaluation_images

    if job.quantized is None:
        return _int8_accuracy(job)
    images, labels = evaluation_images(job.model_input, data=_evaluation_source(job),
                                       count=job.request.eval_samples)
    job.held_out = (images[:STORED_COUNT], labels[:STORED_COUNT])
    with progress_display(job) as progress:
        job.accuracy = accuracy_report(job.loaded.module, job.tflite, images, labels, progress=progress)
    result = job.accuracy
    if result.warning:
        job.warnings.append(result.warning)
    return f"top-1 float {result.float_top1:.2%} → int8 {result.int8_top1:.2%} on {result.images:,} images"


def _int8_accuracy(job: CompileJob) -> str:
    """An int8 .tflite on --eval data: int8 top-1 alone (sapool validate's data check and scoring; there is no
    float model). Regression targets are not a top-1: said in a warning, with the command that scores them."""
    from sapool.quantize.accuracy import AccuracyReport
    from sapool.quantize.int8_run import run_int8
    from sapool.validate.metrics import classification
    from sapool.validate.samples import CLASSIFICATION, load_samples, model_side

    request = job.request
    samples = load_samples(request.eval_data, model_side(job.loaded, request.calib_mean, request.calib_std),
                           request.eval_samples)
    if samples.task != CLASSIFICATION:
        job.warnings.append(f"{request.eval_data} has regression targets, not class labels: score it with "
                            f"sapool validate {request.model} --data {request.eval_data}")
        return "no top-1: regression targets"
    outputs = run_int8(job.tflite, job.graph, samples.inputs, channels_first=False).outputs
    top1 = classification(outputs, samples.targets, samples.class_names).top1
    job.accuracy = AccuracyReport(None, top1, len(samples.targets), (), None)
    return f"top-1 int8 {top1:.2%} on {len(samples.targets):,} images (no float model)"


def tflm_has_kernels(job: CompileJob) -> bool:
    """TFLite-Micro has a kernel for every op of the int8 model (GELU, for one, it has not)."""
    from sapool.backends.tflm.op_resolver import tflm_runs

    return tflm_runs(job.graph)


def tflm_lacks_kernels(job: CompileJob) -> str:
    """Why the TFLite-Micro comparison and export are skipped (said once, by the verify step; the native firmware
    still runs the model, and `sapool emulate` checks it against TFLite's reference kernels)."""
    from sapool.backends.tflm.op_resolver import RESOLVER_METHODS

    missing = sorted({op.opcode for op in job.graph.ops} - set(RESOLVER_METHODS))
    return (f"TFLite-Micro has no {', '.join(missing)} kernel: no TFLite-Micro comparison and no tflm/ "
            "export; the native firmware runs the model (check it with sapool emulate)")


def verify(job: CompileJob) -> str:
    """Run the int8 model in both interpreters on the same inputs and compare them bit for bit. With --rounding tflm
    (the default) TFLite's reference kernels run each FULLY_CONNECTED as the 1×1 CONV_2D the firmware runs, which
    rounds as TFLite-Micro does; with --rounding tflite they run the model as it is (LiteRT rounds FULLY_CONNECTED
    once, TFLite-Micro twice: the comparison then shows that known difference)."""
    from sapool.verify.compare import compare_outputs
    from sapool.verify.interpreters import reference_model, run_model
    from sapool.verify.packing import in_lsb

    inputs = verification_inputs(job)
    models = {"litert-ref": reference_model(job.tflite, job.request.rounding), "tflm": job.tflite}
    reference, micro = (in_lsb(job.graph, job.graph.outputs, run_model(models[engine], inputs, engine=engine)
                               .all_outputs) for engine in ("litert-ref", "tflm"))
    comparison = compare_outputs(reference, micro, graph=job.graph)
    if not comparison.identical:  # find the first op where they part, on the first input that differs
        differing = next(i for i in range(len(reference)) if not (reference[i] == micro[i]).all())
        sample = [array[differing:differing + 1] for array in inputs]
        runs = [run_model(models[engine], sample, engine=engine, intermediates=True).intermediates
                for engine in ("litert-ref", "tflm")]
        located = compare_outputs(reference, micro, graph=job.graph, intermediates=(runs[0], runs[1]))
        comparison = replace(comparison, first_divergence=located.first_divergence, note=located.note)
    job.verification["tflm"] = comparison  # its note (TFLM's known differences) is shown beside the figure
    where = ""
    if comparison.first_divergence is not None:
        first = comparison.first_divergence
        where = f"; they first differ at op {first.op_index} ({first.opcode}, {first.max_lsb_diff} LSB)"
    return (f"TFLite reference vs TFLite-Micro on {len(reference)} inputs: {comparison.bit_exact:,}/{comparison.total:,} "
            f"output values bit-exact, max {comparison.max_lsb_diff} LSB{where}")
