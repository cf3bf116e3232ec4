"""Tensor, Op and Graph: a framework-neutral view of one TFLite subgraph.

The graph is plain data. Readers (ir.read for .tflite, models.footprint for torch modules) build it; the memory
planner and the exporters only read it. Shapes are as stored in the model (NHWC for TFLite).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sapool.ir.options import NoOptions, OpOptions

# Bits per element of every fixed-size TFLite tensor type (int4 packs two elements per byte).
DTYPE_BITS = {
    "int4": 4, "int8": 8, "uint8": 8, "bool": 8, "int16": 16, "uint16": 16, "float16": 16, "bfloat16": 16,
    "int32": 32, "uint32": 32, "float32": 32, "int64": 64, "uint64": 64, "float64": 64, "complex64": 64,
    "complex128": 128,
}
DTYPE_BYTES = {dtype: bits // 8 for dtype, bits in DTYPE_BITS.items() if bits % 8 == 0}  # whole-byte types

# Ops whose output is the same bytes as their (first) input, reinterpreted: they allocate nothing.
VIEW_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})


@dataclass(frozen=True)
class Quantization:
    """Affine quantisation `real = scale * (q - zero_point)`; one entry per channel along `axis` when per-channel."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quantization: Quantization | None = None
    data: bytes | None = None  # constant contents (weights, biases, shape vectors); None for activations
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def num_elements(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes the tensor occupies (packed sub-byte types rounded up to whole bytes)."""
        return -(-self.num_elements * DTYPE_BITS[self.dtype] // 8)


@dataclass(frozen=True)
class Op:
    """One operator. `name` labels it in reports and generated code; `origin` says where it came from in the
    source model (a .tflite operator index, a torch module path) so a user can find the layer a report names."""

    index: int  # position in execution order
    opcode: str  # TFLite builtin name, e.g. "CONV_2D"; custom ops as "CUSTOM:<name>"
    inputs: tuple[int | None, ...]  # tensor indices; None marks an omitted optional input (e.g. no bias)
    outputs: tuple[int, ...]
    options: OpOptions = field(default_factory=NoOptions, compare=False)  # typed, see sapool.ir.options
    name: str = field(default="", compare=False)
    origin: str = field(default="", compare=False)


@dataclass
class Graph:
    name: str
    tensors: list[Tensor]
    ops: list[Op]  # in execution order
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def is_activation(self, index: int | None) -> bool:
        """True for tensors that need arena memory: produced or consumed at run time, not constant."""
        return index is not None and not self.tensors[index].is_constant

    def activations(self) -> list[Tensor]:
        used = {i for op in self.ops for i in (*op.inputs, *op.outputs) if i is not None}
        used |= set(self.inputs) | set(self.outputs)
        return [t for t in self.tensors if t.index in used and not t.is_constant]

    def weight_bytes(self, op: Op) -> int:
        """Bytes of constant data (flash) the op reads."""
        return sum(self.tensors[i].nbytes for i in op.inputs if i is not None and self.tensors[i].is_constant)

    def readers(self) -> dict[int, list[int]]:
        """{tensor index: positions in `ops` of the ops that read it}, each op once, in execution order."""
        found: dict[int, list[int]] = {}
        for position, op in enumerate(self.ops):
            for tensor in dict.fromkeys(op.inputs):
                if tensor is not None:
                    found.setdefault(tensor, []).append(position)
        return found
