"""How large a tensor arena TFLite-Micro needs for a model: its head (activations) plus its tail (bookkeeping).

TFLM splits its one arena into a head (the tensors its memory plan places; with sapool's offline plan, exactly
sapool's arena) and a tail of persistent allocations. The tail model below was measured on the 64-bit host with
TFLM's Python interpreter (tflite-micro 0.dev20261023, reference kernels, `print_allocations()`), on the 22
single-op models of tests/backends/c and the four MLPerf Tiny models, and splits the tail into:
- per tensor, a TfLiteEvalTensor (data pointer, dims pointer, type): 24 B on 64-bit, 12 B on 32-bit;
- per op, a NodeAndRegistration (TfLiteNode: six pointers and an int; a registration pointer): 64 B / 32 B;
- per graph input and output, the persistent TfLiteTensor the application reads it through (64 B / 40 B) and,
  when quantised, its TfLiteAffineQuantization and one-entry zero-point array (32 B / 20 B);
- per CONV_2D / DEPTHWISE_CONV_2D output channel (and FULLY_CONNECTED's when per-channel), the int32 multiplier
  and shift its kernel precomputes: 8 B on both;
- per op, its builtin options and kernel OpData (`OP_BYTES`, the largest of 4 seeded single-op models, minus
  the fixed part) and a fixed part (the allocator objects): measured on 64-bit and kept as is for 32-bit. Those
  structs hold few pointers, so the 64-bit figure is an upper bound for 32-bit.
On the MLPerf models this over-estimates the host tail by 160-864 B (at most 0.8 % of the arena), never under.

At start-up TFLM also needs temporary room where the head will be, after its scratch-request array (12 requests):
each kernel's Prepare reads its operands through temporary TfLiteTensors (CONV_2D, DEPTHWISE_CONV_2D and MEAN
take more, `PREPARE_EXTRA_BYTES`, measured), and the planner needs one AllocationInfo per tensor and
40 B per planned buffer. For a model whose head is tiny (ad01_int8: 768 B) that, not the head, sets the smallest
working arena.

The 32-bit figure is checked against DESIGN §7's TFLM-on-Cortex-M7 arenas (see docs/tflm_export.md). It is for
TFLM's reference kernels: optimised kernels (CMSIS-NN) request scratch buffers that TFLM places next to the
planned tensors, so they need more; `MARGIN_BYTES` covers alignment slack, not that.
"""

from __future__ import annotations

from dataclasses import dataclass

from sapool.backends.tflm.offline_plan import TFLM_ALIGNMENT
from sapool.ir.graph import Graph
from sapool.memory.lifetimes import aligned

MARGIN_BYTES = 512  # added to the 32-bit figure written to arena_size.h: alignment slack between allocations


@dataclass(frozen=True)
class PointerModel:
    """Byte sizes of TFLM's pointer-holding structs on one word size."""

    word: int  # pointer size; allocations are rounded up to it
    eval_tensor: int
    node_and_registration: int
    tflite_tensor: int
    affine_quantization: int  # TfLiteAffineQuantization (scale and zero-point pointers, quantized dimension)
    allocation_info: int  # per tensor, while planning
    scratch_requests: int  # the 12-entry ScratchBufferRequest array, at the start of the head until planned

    def tensor_view(self, channels: int) -> int:
        """A TfLiteTensor and, when quantised, its quantisation struct and zero-point array (4 + 4 B per channel)."""
        return self.tflite_tensor + (self.affine_quantization + aligned(4 + 4 * channels, self.word) if channels else 0)


HOST_64 = PointerModel(8, 24, 64, 64, 24, 32, 12 * 16)
MCU_32 = PointerModel(4, 12, 32, 40, 12, 24, 12 * 12)

FIXED_BYTES = 520
# Per-op builtin options + kernel OpData beyond FIXED_BYTES, 64-bit, without the per-channel arrays.
OP_BYTES = {
    "CONV_2D": 136, "DEPTHWISE_CONV_2D": 144, "FULLY_CONNECTED": 128, "AVERAGE_POOL_2D": 72, "MAX_POOL_2D": 72,
    "ADD": 80, "SUB": 64, "MUL": 48, "SOFTMAX": 88, "LOGISTIC": 24, "TANH": 24, "MEAN": 64, "PAD": 64,
    "CONCATENATION": 112, "RESHAPE": 32, "SQUEEZE": 40, "EXPAND_DIMS": 0, "TRANSPOSE": 0, "BATCH_MATMUL": 272,
    "RESIZE_NEAREST_NEIGHBOR": 0, "QUANTIZE": 40, "DEQUANTIZE": 40,
}
UNMEASURED_OP_BYTES = max(OP_BYTES.values())  # an op not measured: assume the costliest one
# Measured (64-bit, kept for 32-bit): extra temporary bytes some kernels' Prepare takes beyond their operands'
# TfLiteTensor views; the convolutions also 4 B per output channel.
PREPARE_EXTRA_BYTES = {"CONV_2D": 256, "DEPTHWISE_CONV_2D": 256, "MEAN": 208}
PLANNER_BYTES_PER_BUFFER = 40  # GreedyMemoryPlanner: requirements (16) + 2 sort arrays (8) + list entry (12) + offset (4)
# Output-channel axis of the weights whose kernels keep per-channel multipliers and shifts.
PER_CHANNEL_WEIGHT_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}


@dataclass(frozen=True)
class ArenaEstimate:
    head_bytes: int
    tail_bytes: int
    start_up_bytes: int  # temporary need at start-up (kernels' Prepare, planning), where the head later goes
    arena_bytes: int  # what to give TFLM: max(tail + head, tail before I/O tensors + start-up), 16-aligned


def estimate_arena(graph: Graph, head_bytes: int, planned_buffers: int, words: PointerModel = MCU_32) -> ArenaEstimate:
    """TFLM's arena for `graph` when its memory plan has a `head_bytes` head and places `planned_buffers` buffers.

    `planned_buffers` counts what TFLM plans: every activation tensor (TFLM's own plan does not alias views).
    """
    io_tail = sum(words.tensor_view(_channels(graph, i)) for i in (*graph.inputs, *graph.outputs))
    tail = (
        FIXED_BYTES
        + words.eval_tensor * len(graph.tensors)
        + words.node_and_registration * len(graph.ops)
        + sum(OP_BYTES.get(op.opcode, UNMEASURED_OP_BYTES) + 8 * _output_channels(graph, op) for op in graph.ops)
        + io_tail
    )
    planning = (words.scratch_requests + words.allocation_info * len(graph.tensors)
                + PLANNER_BYTES_PER_BUFFER * planned_buffers)
    # Each kernel's Prepare reads its tensors through temporary TfLiteTensors, after the scratch-request array.
    prepare = words.scratch_requests + max((_prepare_bytes(graph, op, words) for op in graph.ops), default=0)
    # The I/O tensors are allocated last, so planning and Prepare only compete with the rest of the tail.
    start_up = max(planning, prepare)
    arena = max(tail + head_bytes, tail - io_tail + start_up)
    return ArenaEstimate(head_bytes, tail, start_up, aligned(arena, TFLM_ALIGNMENT))


def _prepare_bytes(graph: Graph, op, words: PointerModel) -> int:
    """Temporary bytes one kernel's Prepare takes: a TfLiteTensor view of each operand, and the convs' extra."""
    views = sum(words.tensor_view(_channels(graph, i)) for i in (*op.inputs, *op.outputs) if i is not None)
    return views + PREPARE_EXTRA_BYTES.get(op.opcode, 0) + 4 * _output_channels(graph, op)


def _channels(graph: Graph, index: int) -> int:
    """Quantisation channels of a tensor (1 per-tensor, 0 unquantised)."""
    quantization = graph.tensor(index).quantization
    return len(quantization.scale) if quantization else 0


def _output_channels(graph: Graph, op) -> int:
    axis = PER_CHANNEL_WEIGHT_AXIS.get(op.opcode)
    if axis is None or len(op.inputs) < 2 or op.inputs[1] is None:
        return 0
    weights = graph.tensor(op.inputs[1])
    if op.opcode == "FULLY_CONNECTED" and not (weights.quantization and weights.quantization.per_channel):
        return 0
    return weights.shape[axis] if len(weights.shape) > axis else 0
