"""Every C kernel against TFLite's reference kernels, on the seeded single-op int8 models of single_op_models.

All models are generated and built into one sanitizer-instrumented host executable per session (host_batch);
each op's test runs its models on several random inputs and requires every output byte to equal BUILTIN_REF's
(float32 outputs, of DEQUANTIZE, compared by their bytes: identical floats, not close ones).
"""

from __future__ import annotations

import numpy as np
import pytest

from sapool.ir.read import read_tflite_bytes
from tests.backends.c.host_batch import build_batch, run_batch
from tests.backends.c.single_op_models import OPCODES, random_inputs, run_reference, seeded_models

MODELS_PER_OP = {"CONV_2D": 16, "DEPTHWISE_CONV_2D": 16, "FULLY_CONNECTED": 12, "ADD": 12, "SUB": 12, "MUL": 12,
                 "MEAN": 12, "BATCH_MATMUL": 12}
DEFAULT_MODELS_PER_OP = 8
INPUTS_PER_MODEL = 4


@pytest.fixture(scope="session")
def batch(tmp_path_factory):
    models = [model for opcode in OPCODES
              for model in seeded_models(opcode, MODELS_PER_OP.get(opcode, DEFAULT_MODELS_PER_OP))]
    graphs = [read_tflite_bytes(model.content, f"case{k}") for k, model in enumerate(models)]
    return models, build_batch(graphs, tmp_path_factory.mktemp("single_op_kernels"))


@pytest.mark.parametrize("opcode", OPCODES)
def test_kernel_is_bit_exact_with_tflite_reference(batch, opcode):
    models, executable = batch
    mismatched = []
    for k, model in enumerate(models):
        if model.opcode != opcode:
            continue
        samples = [random_inputs(model, seed) for seed in range(INPUTS_PER_MODEL)]
        packed = np.stack([np.concatenate([_bytes(array) for array in sample]) for sample in samples])
        output_bytes = int(np.prod(model.output_shape)) * np.dtype(model.output_dtype).itemsize
        outputs = run_batch(executable, k, packed, output_bytes)
        expected = np.stack([_bytes(run_reference(model.content, sample)[0]) for sample in samples])
        if not np.array_equal(outputs, expected):
            mismatched.append(f"{model.label}: {int((outputs != expected).sum())} bytes differ")
    assert not mismatched, "\n".join(mismatched)


def _bytes(array: np.ndarray) -> np.ndarray:
    """The array's bytes as int8, the way the host runner reads and writes them."""
    return np.frombuffer(np.ascontiguousarray(array).tobytes(), np.int8)
