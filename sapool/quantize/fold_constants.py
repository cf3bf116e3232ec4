"""Arithmetic on constants computed before annotation, and division by a constant written as a multiplication.

An exported graph keeps what the model computes from constants only at run time (`torch.sqrt(torch.tensor(2.0))`
becomes lift_fresh_copy → detach_ → sqrt of a lifted tensor); no int8 rule fits those ops and none is needed:
`fold_constants` evaluates every float node whose inputs are all constants once and reads the result as a
constant (quantised as a weight where a rule reads it). `x / c` for a constant c becomes `x · (1/c)`, an int8 MUL
(TFLite's int8 DIV has no kernel in the C backend, docs/adding_an_op.md); 1/c is taken in float32, within an ulp
of the quotient, as the ONNX front end does for Div by a constant.
"""

from __future__ import annotations

import torch
from torch.fx import GraphModule, Node

aten = torch.ops.aten
DIVISIONS = frozenset({aten.div.Tensor, aten.div.Scalar})


def fold_constants(model: GraphModule, constant_node) -> None:
    """Replace each call whose arguments are constants (get_attr nodes, numbers) by its value (in place)."""
    for node in list(model.graph.nodes):
        if node.op != "call_function" or not node.users or not _all_constant(node):
            continue
        value = node.target(*_values(model, node.args), **_values(model, node.kwargs))
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            continue
        constant = constant_node(model, node, value)
        node.replace_all_uses_with(constant)
        model.graph.erase_node(node)
    model.graph.eliminate_dead_code()


def divisions_as_products(model: GraphModule, constant_node) -> None:
    """x / c → x · (1/c) for a constant divisor c (a number or a constant tensor)."""
    for node in list(model.graph.nodes):
        if node.op != "call_function" or node.target not in DIVISIONS or node.kwargs.get("rounding_mode"):
            continue
        numerator, divisor = node.args[:2]
        if isinstance(divisor, Node):
            if divisor.op != "get_attr":
                continue
            divisor = _attribute(model, divisor.target)
        reciprocal = constant_node(model, node, 1.0 / torch.as_tensor(divisor, dtype=torch.float32))
        node.target, node.args = aten.mul.Tensor, (numerator, reciprocal)


def _all_constant(node: Node) -> bool:
    nodes = [arg for arg in node.all_input_nodes]
    return bool(nodes) and all(arg.op == "get_attr" for arg in nodes)


def _values(model: GraphModule, args):
    from torch.fx.node import map_arg

    return map_arg(args, lambda arg: _attribute(model, arg.target))


def _attribute(model: GraphModule, target: str) -> torch.Tensor:
    value = model
    for part in target.split("."):
        value = getattr(value, part)
    return value.detach() if isinstance(value, torch.Tensor) else value
