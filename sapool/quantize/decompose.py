"""Rewrites of the aten graph before annotation, for ops litert-torch would lower to float ops: each becomes int8
ops the annotator has rules for and the C backend has kernels for.

litert-torch 0.10 decomposes silu, prelu and a batch_norm that PT2E did not fold into a conv *after* annotation,
so their pieces (LOGISTIC, MUL, RELU, SUB, ADD) carry no quantisation and stay float (measured). Written out here
first, every piece gets its own rule:
- silu(x) = x · sigmoid(x)                         → LOGISTIC, MUL
- prelu(x, w) = relu(x) + w · (x − relu(x))        → RELU, SUB, MUL by a constant, ADD
- batch_norm(x) (inference) = x · s + t            → MUL, ADD by per-channel constants s = γ/√(σ² + ε), t = β − μ·s
Each int8 step rounds once, so the int8 result is a little further from float than one fused op would be; it is
what the TFLite converter's own decompositions give, and every step runs bit-exact in the C backend.
"""

from __future__ import annotations

import torch
from torch.fx import GraphModule, Node

aten = torch.ops.aten


def decompose_for_int8(model: GraphModule, origins: dict[str, str] | None = None) -> None:
    """Rewrite silu, prelu and inference batch_norm nodes of `model` in place, fold arithmetic on constants and
    division by constants (fold_constants.py) and the transformer ops (decompose_transformer.py); call
    `model.recompile()` after."""
    from sapool.quantize.decompose_transformer import decompose_transformer_ops
    from sapool.quantize.fold_constants import divisions_as_products, fold_constants
    from sapool.quantize.origin import node_origin

    fold_constants(model, constant_node)
    divisions_as_products(model, constant_node)
    decompose_transformer_ops(model, _replace, constant_node, lambda node: node_origin(node, origins))
    for node in list(model.graph.nodes):
        if node.op != "call_function":
            continue
        if node.target == aten.silu.default:
            (source,) = node.args
            _replace(model, node, lambda call: call(aten.mul.Tensor, source, call(aten.sigmoid.default, source)))
        elif node.target == aten.prelu.default:
            source, weight = node.args
            slope = _per_channel(model, node, _value(model, weight), source)
            _replace(model, node, lambda call: _prelu(call, source, slope))
        elif node.target == aten.batch_norm.default and not node.args[5]:  # args[5]: training
            source = node.args[0]
            mean, variance = _value(model, node.args[3]), _value(model, node.args[4])
            weight = _value(model, node.args[1], default=torch.ones_like(mean))
            bias = _value(model, node.args[2], default=torch.zeros_like(mean))
            scale = weight / torch.sqrt(variance + node.args[7])
            multiply = _per_channel(model, node, scale, source)
            offset = _per_channel(model, node, bias - mean * scale, source)
            _replace(model, node, lambda call: call(aten.add.Tensor, call(aten.mul.Tensor, source, multiply), offset))


def _prelu(call, source: Node, slope: Node) -> Node:
    positive = call(aten.relu.default, source)
    return call(aten.add.Tensor, positive, call(aten.mul.Tensor, call(aten.sub.Tensor, source, positive), slope))


def _replace(model: GraphModule, node: Node, build) -> None:
    """Insert what `build(call)` makes before `node` (each new node takes `node`'s metadata, its origin, with the
    value it computes), route `node`'s users to the result and drop `node`."""
    def call(target, *args) -> Node:
        new = model.graph.call_function(target, args)
        new.meta = dict(node.meta)
        new.meta["val"] = _example_value(target, args)
        return new

    with model.graph.inserting_before(node):
        result = build(call)
    node.replace_all_uses_with(result)
    model.graph.erase_node(node)


def _example_value(target, args):
    """What `target` computes on its arguments' example values, as a fake tensor of the export's fake mode: the
    new node's "val" (shape and dtype; PT2E observes only nodes whose value is such a tensor)."""
    from torch._guards import detect_fake_mode
    from torch.fx.node import map_aggregate

    values = map_aggregate(args, lambda arg: arg.meta.get("val") if isinstance(arg, Node) else arg)
    mode = detect_fake_mode(values)
    fake = map_aggregate(values, lambda v: mode.from_tensor(v) if isinstance(v, torch.Tensor)
                         and not isinstance(v, torch._subclasses.FakeTensor) else v)
    with mode:
        return target(*fake)


def _value(model: GraphModule, node, default: torch.Tensor | None = None) -> torch.Tensor:
    """The tensor behind a get_attr node (a parameter or buffer of the exported module); `default` for None."""
    if node is None:
        return default
    value = model
    for part in node.target.split("."):
        value = getattr(value, part)
    return value.detach().float()


def _per_channel(model: GraphModule, node: Node, values: torch.Tensor, source: Node) -> Node:
    """`values` (one per channel, or one for all) as a constant that broadcasts along axis 1 of `source` (NCHW
    inside the exported module)."""
    rank = source.meta["val"].dim()
    shape = (-1, *([1] * (rank - 2))) if values.numel() > 1 and rank >= 2 else (values.numel(),)
    return constant_node(model, node, values.reshape(shape))


def constant_node(model: GraphModule, before: Node, value: torch.Tensor) -> Node:
    """`value` registered as a buffer of `model` and read by a new get_attr node placed before `before`."""
    name = f"_sapool_constant_{len([n for n in model.graph.nodes if n.op == 'get_attr'])}"
    model.register_buffer(name, value.detach().float().clone())
    with model.graph.inserting_before(before):
        constant = model.graph.get_attr(name)
    constant.meta["val"] = getattr(model, name)
    return constant
