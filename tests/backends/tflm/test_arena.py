"""The arena model against TFLite-Micro itself, on single-op models it was not fitted on."""

from dataclasses import replace

import pytest

from sapool.backends.tflm.arena import HOST_64, MCU_32, OP_BYTES, UNMEASURED_OP_BYTES, estimate_arena
from sapool.backends.tflm.offline_plan import head_bytes, tensor_offsets
from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import plan_layout
from sapool.verify.interpreters import smallest_tflm_arena
from tests.backends.c.single_op_models import build_model
from tests.verify.int8_models import tiny_int8_bytes

# The ops whose single-op models have one batch-1 input (what the verify runner drives); seeds 0-9 fitted the model.
CHECKED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "ADD", "SOFTMAX", "MEAN", "RESIZE_NEAREST_NEIGHBOR")
UNSEEN_SEEDS = (10,)


def host_estimate(content: bytes):
    graph = read_tflite_bytes(content, "model")
    head = head_bytes(graph, tensor_offsets(graph, plan_layout(graph)))
    return graph, estimate_arena(graph, head, len(graph.activations()), HOST_64)


@pytest.mark.parametrize("seed", UNSEEN_SEEDS)
@pytest.mark.parametrize("opcode", CHECKED_OPS)
def test_host_estimate_is_enough_and_within_5_percent_on_unseen_models(opcode, seed):
    model = build_model(opcode, seed)
    graph, estimate = host_estimate(model.content)
    if len(graph.inputs) != 1 or graph.tensor(graph.inputs[0]).shape[:1] != (1,):
        pytest.skip(f"{model.label}: not a single batch-1 input")
    smallest = smallest_tflm_arena(model.content)
    assert smallest <= estimate.arena_bytes <= smallest * 1.05, model.label


def test_32_bit_structs_are_smaller_and_unmeasured_ops_assume_the_costliest():
    graph, host = host_estimate(tiny_int8_bytes())
    mcu = estimate_arena(graph, host.head_bytes, 4, MCU_32)
    assert mcu.tail_bytes < host.tail_bytes and mcu.head_bytes == host.head_bytes
    renamed = replace(graph, ops=[replace(op, opcode="CUSTOM:thing") for op in graph.ops])
    unmeasured = estimate_arena(renamed, host.head_bytes, 4, HOST_64)
    measured_ops = sum(OP_BYTES[op.opcode] for op in graph.ops)
    per_channel = host.tail_bytes - unmeasured.tail_bytes + UNMEASURED_OP_BYTES * len(graph.ops) - measured_ops
    assert per_channel == 8 * 3  # the conv's 3 output channels: multiplier and shift
