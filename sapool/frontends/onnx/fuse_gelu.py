"""GELU written out with Erf (exporters before opset 20, and many published ONNX models) back into one Gelu.

    Div(x, √2) or Mul(x, 1/√2) → Erf → Add(·, 1) → Mul(·, x) → Mul(·, 0.5)     (the two last Muls in either order,
                                                                                 operands either way round)
is 0.5·x·(1 + erf(x/√2)), torch's exact GELU, which has an int8 lowering (a 256-entry table); Erf alone has none
in TFLite. Constants are matched within 1e-3 (exporters write √2 as 1.4142135 or 1.41421). The pattern's inner
values must have no other reader. An Erf outside the pattern stays and is refused with the way out.
"""

from __future__ import annotations

import math
from collections import Counter

SQRT2 = math.sqrt(2.0)
TOLERANCE = 1e-3


def fuse_gelu(model):
    """A copy of `model` with every matched Erf pattern replaced by one Gelu node (the same output name)."""
    from onnx import helper, numpy_helper

    model = _copy(model)
    graph = model.graph
    constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    readers = Counter(name for node in graph.node for name in node.input)
    outputs = {output.name for output in graph.output}
    producers = {output: node for node in graph.node for output in node.output}
    users = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    removed, replacements = set(), {}
    for erf in (node for node in graph.node if node.op_type == "Erf"):
        match = _match(erf, producers, users, constants, readers, outputs)
        if match is None:
            continue
        source, chain, last = match
        removed.update(id(node) for node in chain)
        replacements[id(last)] = helper.make_node("Gelu", [source], [last.output[0]], name=f"{erf.name}_gelu")
    if not replacements:
        return model
    kept = []
    for node in graph.node:
        if id(node) in replacements:
            kept.append(replacements[id(node)])
        elif id(node) not in removed:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    return model


def _match(erf, producers, users, constants, readers, outputs):
    """(x, the pattern's nodes, its last node) or None."""
    scale = producers.get(erf.input[0])
    if scale is None or scale.op_type not in ("Div", "Mul") or _private(scale, readers, outputs) is False:
        return None
    x, factor = _operands(scale, constants)
    wanted = SQRT2 if scale.op_type == "Div" else 1 / SQRT2
    if x is None or not _near(factor, wanted) or (scale.op_type == "Div" and scale.input[0] != x):
        return None
    add = _only_user(erf, users, readers, outputs)
    if add is None or add.op_type != "Add" or not _near(_operands(add, constants)[1], 1.0):
        return None
    first = _only_user(add, users, readers, outputs)
    if first is None or first.op_type != "Mul":
        return None
    second = _only_user(first, users, readers, outputs)
    if second is None or second.op_type != "Mul":
        return None
    # either Mul(·, x) then Mul(·, 0.5), or Mul(·, 0.5) then Mul(·, x)
    for by_x, by_half in ((first, second), (second, first)):
        other = [name for name in by_x.input if name not in (add.output[0], first.output[0])]
        if other == [x] and _near(_operands(by_half, constants)[1], 0.5):
            return x, (scale, erf, add, first, second), second
    return None


def _operands(node, constants):
    """(the run-time operand, the scalar constant operand) of a binary node, or (None, None)."""
    if len(node.input) != 2:
        return None, None
    for variable, fixed in (node.input, tuple(reversed(node.input))):
        value = constants.get(fixed)
        if value is not None and value.size == 1 and variable not in constants:
            return variable, float(value.reshape(-1)[0])
    return None, None


def _only_user(node, users, readers, outputs):
    name = node.output[0]
    if readers[name] != 1 or name in outputs:
        return None
    return users[name][0]


def _private(node, readers, outputs) -> bool:
    return readers[node.output[0]] == 1 and node.output[0] not in outputs


def _near(value, wanted: float) -> bool:
    return value is not None and abs(value - wanted) <= TOLERANCE * abs(wanted)


def _copy(model):
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy
