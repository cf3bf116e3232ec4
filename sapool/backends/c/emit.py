"""The vocabulary op lowerings use to describe their C: constant arrays, parameter structs, kernel calls.

A lowering never writes model.c itself. It asks an `EmitContext` for pointer expressions (arena slots from the
Layout, constant arrays it registers) and returns a `LoweredOp`: the C statements of its layer and the kernel
source files those statements need. model.c's template lays the pieces out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float"}
NO_SCRATCH = "SAPOOL_NO_SCRATCH"  # model.c's name for "this layer's kernel has no work buffer" (a null pointer)


@dataclass(frozen=True)
class ConstArray:
    """`static const <ctype> <name>[n]` in flash, aligned 16; `values` already in the final order.

    `arm_values`, when set, are the same values in the order the optimised kernels (kernels/arm/) read them;
    model.c holds the one order of the kernel set it is generated for (same name and size either way)."""

    name: str
    ctype: str
    values: np.ndarray
    arm_values: np.ndarray | None = None

    def c_values(self, arm: bool = False) -> str:
        """The initialiser body (of `arm_values` when `arm` and there are some), 16 values a line; floats as C99 hex
        literals so no bit is lost."""
        flat = (self.arm_values if arm and self.arm_values is not None else self.values).reshape(-1)
        if self.ctype == "float":
            items = [float(v).hex() + "f" for v in flat.astype(np.float32)]
        else:
            items = [str(int(v)) for v in flat]
        lines = (", ".join(items[i:i + 16]) for i in range(0, len(items), 16))
        return ",\n    ".join(lines)


@dataclass(frozen=True)
class ConstStruct:
    """`static const <ctype> <name> = { .field = value, ... };` for a kernel's parameter block; a list value
    initialises an array field, a dict value a nested struct."""

    name: str
    ctype: str
    fields: dict

    def c_initializer(self) -> str:
        def value(v):
            if isinstance(v, dict):
                return "{" + ", ".join(f".{key} = {value(x)}" for key, x in v.items()) + "}"
            if isinstance(v, (list, tuple)):
                return "{" + ", ".join(value(x) for x in v) + "}"
            return float(v).hex() + "f" if isinstance(v, float) else str(int(v))
        return ", ".join(f".{key} = {value(v)}" for key, v in self.fields.items())


@dataclass(frozen=True)
class LoweredOp:
    """One layer of model.c: its statements (kernel calls), and the kernel sources (reference/*.c) they use."""

    statements: tuple[str, ...]
    sources: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class WindowCall:
    """A windowed kernel's call (CONV_2D, DEPTHWISE_CONV_2D, pools) with its constants already emitted and its
    parameter struct's fields (for the whole image) not yet, so the same op can be called on the whole image or,
    by a patch stage, on patches, each geometry its own struct.
    The C is `kernel(params, *leading, input, *constants, output[, scratch])`."""

    kernel: str
    params_type: str
    fields: dict  # the parameter struct's fields, for the whole image
    constants: tuple[str, ...]
    source: str  # the reference/*.c file defining `kernel`
    takes_scratch: bool = False
    leading: tuple[str, ...] = ()  # arguments before the input (the grouped conv's group count)

    def statement(self, params: str, source: str, output: str, scratch: str = NO_SCRATCH) -> str:
        arguments = [params, *self.leading, source, *self.constants, output, *([scratch] if self.takes_scratch else [])]
        return f"{self.kernel}({', '.join(arguments)});"


@dataclass
class EmitContext:
    """What a lowering may ask while generating: where tensors live, and a place to put constants.

    `tensor_pointer(index)` is `(arena + offset)` for an activation, taken from the Layout (never recomputed),
    or the name of the tensor's constant array. Constants read directly from the model are emitted once per
    tensor; derived ones (folded biases, multipliers) are named after the op that owns them.
    """

    layout: object
    graph: object
    arena_names: dict[str, str]
    arrays: list[ConstArray] = field(default_factory=list)
    structs: list[ConstStruct] = field(default_factory=list)
    _tensor_arrays: dict[int, str] = field(default_factory=dict)

    def tensor_pointer(self, tensor_index: int) -> str:
        tensor = self.graph.tensor(tensor_index)
        if tensor.is_constant:
            return self.tensor_array(tensor_index)
        slot = self.layout.tensor_slot(tensor_index)
        return f"({self.arena_names[slot.region]} + {slot.offset})"

    def scratch_pointer(self, op_index: int) -> str:
        slot = self.layout.scratch_slot(op_index)
        return NO_SCRATCH if slot is None else f"({self.arena_names[slot.region]} + {slot.offset})"

    def tensor_array(self, tensor_index: int) -> str:
        """The constant tensor's data as an array (its own dtype and element order), emitted once."""
        if tensor_index not in self._tensor_arrays:
            tensor = self.graph.tensor(tensor_index)
            name = f"sapool_t{tensor_index}"
            values = np.frombuffer(tensor.data, dtype=np.dtype(tensor.dtype).newbyteorder("<"))
            self.arrays.append(ConstArray(name, C_TYPES[tensor.dtype], values))
            self._tensor_arrays[tensor_index] = name
        return self._tensor_arrays[tensor_index]

    def arm_layout(self, name: str, values) -> None:
        """Give the array `name` a second order of its values for the kernels in kernels/arm/ (same size)."""
        for position, array in enumerate(self.arrays):
            if array.name == name:
                values = np.asarray(values, dtype=array.values.dtype)
                if values.shape != array.values.shape:
                    raise ValueError(f"{name}: the arm layout has shape {values.shape}, not {array.values.shape}")
                self.arrays[position] = replace(array, arm_values=values)
                return
        raise KeyError(name)

    def array(self, name: str, ctype: str, values) -> str:
        self.arrays.append(ConstArray(name, ctype, np.asarray(values)))
        return name

    def struct(self, name: str, ctype: str, fields: dict) -> str:
        self.structs.append(ConstStruct(name, ctype, fields))
        return f"&{name}"


class RenamedContext:
    """An EmitContext that adds `suffix` to the names of the constants it is asked to create: the parts of one
    fused op share its index, and constant names must be unique."""

    def __init__(self, ctx: EmitContext, suffix: str):
        self._ctx, self._suffix = ctx, suffix

    def struct(self, name: str, ctype: str, fields: dict) -> str:
        return self._ctx.struct(name + self._suffix, ctype, fields)

    def array(self, name: str, ctype: str, values) -> str:
        return self._ctx.array(name + self._suffix, ctype, values)
