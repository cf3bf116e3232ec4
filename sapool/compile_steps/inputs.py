"""The sample inputs the checking steps share (TFLite vs TFLite-Micro, the exported model, the latency run): not a
step itself, so steps need not import one another."""

from __future__ import annotations

import numpy as np

from sapool.compile_steps.job import CompileJob


def verification_inputs(job: CompileJob) -> list[np.ndarray]:
    """One array of samples per graph input, in the model's own layout: the calibration images when there are
    some (float, in the torch layout, quantised into the int8 export's input layout as the accuracy step does), else seeded random
    (int8, or float32 over what a float interface's QUANTIZE represents)."""
    from sapool.verify.samples import random_inputs

    count = job.request.verify_samples
    if job.calibration is not None:
        from sapool.quantize.int8_run import quantize
        from sapool.quantize.io_layout import to_int8_layout

        images = np.concatenate([batch.numpy() for batch in list(job.calibration)[:count]])
        return [quantize(to_int8_layout(images), job.graph.tensor(job.graph.inputs[0]))]
    return random_inputs(job.graph, count, seed=0)
