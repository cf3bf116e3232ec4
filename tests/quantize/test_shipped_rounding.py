"""One rounding answer: the shipped model's export gives the same int8 logits in TFLite's reference kernels,
TFLite-Micro and the host-built firmware (before sapool wrote FULLY_CONNECTED as 1×1 CONV_2D, LiteRT and
TFLite-Micro agreed on about 70 % of them, up to 5 LSB apart)."""

import numpy as np
import pytest

from sapool.backends.c.host import run_host
from sapool.ir.read import read_tflite_bytes
from sapool.quantize.accuracy import evaluation_images
from sapool.quantize.int8_run import quantize
from sapool.verify.interpreters import run_model
from tests.backends.c.conftest import compile_for_host
from tests.quantize.conftest import needs_fashion_mnist

pytestmark = [needs_fashion_mnist, pytest.mark.slow]
IMAGES = 100


def test_reference_kernels_tflite_micro_and_firmware_give_identical_logits(shipped_export, tmp_path):
    _, model_input, checkpoint, quantized = shipped_export
    graph = read_tflite_bytes(quantized.tflite, "shipped")
    assert "FULLY_CONNECTED" not in {op.opcode for op in graph.ops}
    images, _ = evaluation_images(model_input, recorded_dataset=checkpoint.dataset, count=IMAGES)
    inputs = quantize(images.permute(0, 2, 3, 1).numpy(), graph.tensor(graph.inputs[0]))
    reference = run_model(quantized.tflite, inputs, "litert-ref").outputs.reshape(IMAGES, -1)
    micro = run_model(quantized.tflite, inputs, "tflm").outputs.reshape(IMAGES, -1)
    _, _, executable = compile_for_host(graph, tmp_path)
    firmware = run_host(executable, inputs.reshape(IMAGES, -1), reference.shape[1])
    assert len(np.unique(reference.argmax(axis=1))) > 1  # real images, not one class everywhere
    np.testing.assert_array_equal(micro, reference)
    np.testing.assert_array_equal(firmware, reference)
