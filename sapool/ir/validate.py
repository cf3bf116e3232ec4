"""Structural checks of every op, done once when a model is read, so that nothing downstream trips over them.

A flatbuffer can be well-formed and still describe nonsense: a FULLY_CONNECTED with one input, a CONV_2D whose
filter has rank 2 or that has no output, an omitted (None) input where the op needs one. Without these checks
such a model ends in an IndexError deep inside the MAC counters, or silently reads an unrelated tensor. Here each
op with a known signature is checked for its number of inputs and outputs, for required inputs being present
and for the ranks the rest of sapool relies on; the error names the op (index, opcode, name).

Ops not listed are accepted as they are (custom ops, ops sapool only plans): the planner needs nothing from them
but their tensor references, which the reader has already checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sapool.errors import BadInputError
from sapool.ir.graph import Graph, Op

ANY_RANK = None


@dataclass(frozen=True)
class Operand:
    name: str
    ranks: tuple[int, ...] | None = ANY_RANK  # ranks allowed; None: any
    optional: bool = False  # may be omitted (None) or left out at the end


@dataclass(frozen=True)
class Signature:
    inputs: tuple[Operand, ...]
    variadic: bool = False  # the last operand may repeat (CONCATENATION, ADD_N, PACK)
    outputs: int = 1  # at least this many


IMAGE = (4,)
VECTOR = (1,)
UP_TO_6 = (1, 2, 3, 4, 5, 6)
MATRIX_OR_MORE = (2, 3, 4, 5, 6)
SCALAR_OR_VECTOR = (0, 1)

_CONV = Signature((Operand("input", IMAGE), Operand("filter", IMAGE), Operand("bias", VECTOR, optional=True)))
_POOL = Signature((Operand("input", IMAGE),))
_UNARY = Signature((Operand("input"),))
_BINARY = Signature((Operand("x"), Operand("y")))
_REDUCE = Signature((Operand("input"), Operand("axis", SCALAR_OR_VECTOR)))

SIGNATURES: dict[str, Signature] = {
    "CONV_2D": _CONV,
    "DEPTHWISE_CONV_2D": _CONV,
    "TRANSPOSE_CONV": Signature((Operand("output_shape", VECTOR), Operand("filter", IMAGE), Operand("input", IMAGE),
                                 Operand("bias", VECTOR, optional=True))),
    "FULLY_CONNECTED": Signature((Operand("input", UP_TO_6), Operand("weights", (2,)),
                                  Operand("bias", VECTOR, optional=True))),
    "BATCH_MATMUL": Signature((Operand("lhs", MATRIX_OR_MORE), Operand("rhs", MATRIX_OR_MORE))),
    "AVERAGE_POOL_2D": _POOL,
    "MAX_POOL_2D": _POOL,
    "L2_POOL_2D": _POOL,
    **dict.fromkeys(("ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW"), _BINARY),
    **dict.fromkeys(("LOGISTIC", "TANH", "RELU", "RELU6", "RELU_N1_TO_1", "HARD_SWISH", "LEAKY_RELU", "QUANTIZE",
                     "DEQUANTIZE", "EXP", "LOG", "ABS", "NEG", "SQRT", "RSQRT", "FLOOR", "SQUEEZE"), _UNARY),
    "SOFTMAX": Signature((Operand("input", UP_TO_6),)),
    "LOG_SOFTMAX": Signature((Operand("input", UP_TO_6),)),
    "RESHAPE": Signature((Operand("input"), Operand("shape", VECTOR, optional=True))),
    "EXPAND_DIMS": Signature((Operand("input"), Operand("axis", SCALAR_OR_VECTOR))),
    "TRANSPOSE": Signature((Operand("input"), Operand("perm", VECTOR))),
    "PAD": Signature((Operand("input"), Operand("paddings", (2,)))),
    "PADV2": Signature((Operand("input"), Operand("paddings", (2,)), Operand("constant_values", SCALAR_OR_VECTOR))),
    "MEAN": _REDUCE,
    "SUM": _REDUCE,
    "REDUCE_MAX": _REDUCE,
    "REDUCE_MIN": _REDUCE,
    "CONCATENATION": Signature((Operand("input"),), variadic=True),
    "RESIZE_NEAREST_NEIGHBOR": Signature((Operand("input", IMAGE), Operand("size", VECTOR))),
    "RESIZE_BILINEAR": Signature((Operand("input", IMAGE), Operand("size", VECTOR))),
    "STRIDED_SLICE": Signature((Operand("input"), Operand("begin", VECTOR), Operand("end", VECTOR),
                                Operand("strides", VECTOR))),
    "SLICE": Signature((Operand("input"), Operand("begin", VECTOR), Operand("size", VECTOR))),
}


def validate_graph(graph: Graph) -> None:
    """Raise BadInputError for a graph without operators (nothing to compile: it used to reach gcc and fail there),
    and naming the first op whose inputs, outputs or ranks break its signature."""
    if not graph.ops:
        raise BadInputError("the model has no operators: nothing to compile")
    for op in graph.ops:
        signature = SIGNATURES.get(op.opcode)
        if signature is not None:
            _check_op(graph, op, signature)


def _check_op(graph: Graph, op: Op, signature: Signature) -> None:
    where = f"op {op.index} ({op.opcode}{f' {op.name!r}' if op.name else ''})"
    required = sum(1 for operand in signature.inputs if not operand.optional)
    most = None if signature.variadic else len(signature.inputs)
    count = len(op.inputs)
    if count < required or (most is not None and count > most):
        expected = f"{required}" if most == required else f"{required} to {most}" if most else f"at least {required}"
        raise BadInputError(f"malformed model: {where} has {count} input(s), expected {expected}")
    if len(op.outputs) < signature.outputs:
        raise BadInputError(f"malformed model: {where} has {len(op.outputs)} output(s), expected at least "
                            f"{signature.outputs}")
    for position, index in enumerate(op.inputs):
        operand = signature.inputs[min(position, len(signature.inputs) - 1)]
        if index is None:
            if not operand.optional:
                raise BadInputError(f"malformed model: {where} omits its {operand.name} (input {position}), "
                                    "which is required")
            continue
        shape = graph.tensor(index).shape
        if operand.ranks is not None and len(shape) not in operand.ranks:
            allowed = " or ".join(map(str, operand.ranks))
            raise BadInputError(f"malformed model: {where}: {operand.name} (input {position}, tensor {index}) has "
                                f"rank {len(shape)} (shape {list(shape)}), expected rank {allowed}")
