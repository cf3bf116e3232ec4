"""Float parity of the converted module against onnxruntime: a converter bug must never pass silently.

Both run the same seeded standard-normal inputs (transposed to NHWC for onnxruntime when the file's input is
channels-last); the figure is the worst max-abs difference over all inputs and outputs, divided by
max(1, max |reference|) so that it reads as absolute for small outputs and relative for large ones (a NaN
counts as infinitely far). Above PARITY_LIMIT the conversion is refused (VerificationError) with the figure and
the first ONNX node whose output differs (divergence.py).
"""

from __future__ import annotations

import math
from pathlib import Path

from sapool.errors import BadInputError, VerificationError
from sapool.frontends.onnx.divergence import first_divergence
from sapool.frontends.onnx.read import InputSpec

PARITY_LIMIT = 1e-4
PARITY_SAMPLES = 3


def parity_with_onnxruntime(path: Path, model, conversion, spec: InputSpec, samples: int = PARITY_SAMPLES) -> float:
    """The worst relative difference between the converted module and onnxruntime on `samples` seeded random
    inputs; above PARITY_LIMIT a VerificationError that names the first ONNX node whose output differs."""
    import numpy as np
    import onnxruntime
    import torch

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings (e.g. unused initializers) are not the user's concern
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for models it cannot run
        raise BadInputError(f"{path}: onnxruntime cannot load the model ({_first_line(err)})") from None
    module = conversion.module
    generator = np.random.default_rng(0)
    worst, worst_input = 0.0, None  # the input that gave the worst difference, for locating it
    for _ in range(samples):
        x = generator.standard_normal(spec.module_shape).astype(np.float32)
        try:
            expected = session.run(None, {spec.name: x.transpose(0, 2, 3, 1) if spec.channels_last else x})
        except Exception as err:  # onnxruntime's own exception types: the model cannot run as declared
            raise BadInputError(f"{path}: onnxruntime cannot run the model ({_first_line(err)})") from None
        with torch.no_grad():
            got = module(torch.from_numpy(x))
        got = [got] if isinstance(got, torch.Tensor) else list(got)
        for index, (reference, ours) in enumerate(zip(expected, got)):
            ours = ours.numpy()
            if reference.shape != ours.shape:
                raise VerificationError(f"{path}: converted model's output {index} has shape {list(ours.shape)}, "
                                        f"onnxruntime's {list(reference.shape)} (a converter bug)")
            scale = max(1.0, float(np.max(np.abs(reference), initial=0.0)))
            difference = float(np.max(np.abs(reference - ours), initial=0.0)) / scale
            difference = math.inf if math.isnan(difference) else difference
            if difference > worst:
                worst, worst_input = difference, x
    if worst > PARITY_LIMIT:
        where = first_divergence(model, module, spec, conversion.traced, worst_input, PARITY_LIMIT)
        raise VerificationError(f"{path}: the ONNX → torch conversion differs from onnxruntime by {worst:.2e} "
                                f"(limit {PARITY_LIMIT:.0e}{where}): a converter bug; please report it with the model")
    return worst


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:200]
