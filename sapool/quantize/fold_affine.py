"""fold-bias-add and fold-batch-norm, on the float graph before annotation: a per-channel ADD, SUB or MUL by a
constant right after a convolution or linear layer becomes part of that layer's weights and bias.

Models from CNTK-era ONNX files and hand-written torch code add a bias after a bias-free conv (`conv(x) + b`), and
a BatchNorm that nothing folded reaches the quantiser as x·s + t (decompose.py writes it so). Quantised as they
stand, each such op is an int8 ADD or MUL with its own rounding and its own output tensor. In float the fold is
exact algebra — conv(x, w)·s + t = conv(x, w·s) + (b·s + t) with s and t per output channel — so it is done here,
where it costs no accuracy, and not on the int8 graph, where the two roundings of the separate ops cannot be
reproduced by one (sapool's int8 passes stay bit-exact with the interpreters; docs/architecture.md).
A fold needs the layer's weights (and bias) as constants read by it alone, the layer's output read by the ADD/MUL
alone, and the other operand a constant that broadcasts along the output channels only.
"""

from __future__ import annotations

import torch
from torch.fx import GraphModule, Node

aten = torch.ops.aten
LINEAR_LAYERS = {aten.conv2d.default: 1, aten.conv1d.default: 1, aten.linear.default: -1}  # → output channel axis
AFFINE = (aten.add.Tensor, aten.sub.Tensor, aten.mul.Tensor)


def fold_affine_into_layers(model: GraphModule) -> int:
    """Fold every foldable ADD/SUB/MUL by a per-channel constant into the conv or linear layer before it, in
    place; returns how many were folded (call `model.recompile()` after)."""
    from sapool.quantize.decompose import constant_node

    folded = 0
    changed = True
    while changed:
        changed = False
        for node in list(model.graph.nodes):
            fold = _foldable(model, node)
            if fold is None:
                continue
            layer, values = fold
            weight, bias = _value(model, layer.args[1]), _bias(model, layer)
            channels = weight.shape[0]
            values = values.reshape(-1).expand(channels) if values.numel() == 1 else values.reshape(channels)
            if node.target == aten.mul.Tensor:
                weight = weight * values.reshape(-1, *([1] * (weight.dim() - 1)))
                bias = bias * values
            else:
                bias = bias + (values if node.target == aten.add.Tensor else -values)
            args = list(layer.args) + [None] * (3 - len(layer.args))
            args[1], args[2] = constant_node(model, layer, weight), constant_node(model, layer, bias)
            layer.args = tuple(args)
            node.replace_all_uses_with(layer)
            model.graph.erase_node(node)
            folded += 1
            changed = True
    if folded:
        model.graph.eliminate_dead_code()
    return folded


def _foldable(model: GraphModule, node: Node) -> tuple[Node, torch.Tensor] | None:
    """(the layer, the constant's values) when `node` is an affine op foldable into the layer before it."""
    if node.op != "call_function" or node.target not in AFFINE or node.kwargs.get("alpha", 1) != 1:
        return None
    if len(node.args) != 2:
        return None
    first, second = node.args
    candidates = [(first, second)] + ([(second, first)] if node.target != aten.sub.Tensor else [])
    for layer, constant in candidates:
        if not isinstance(layer, Node) or layer.op != "call_function" or layer.target not in LINEAR_LAYERS:
            continue
        if len(layer.users) != 1 or not _constant_operands_alone(layer):
            continue
        values = _per_channel(model, constant, layer)
        if values is not None:
            return layer, values
    return None


def _constant_operands_alone(layer: Node) -> bool:
    """Weights (and bias) are parameters read by this layer only, so rewriting them changes nothing else."""
    operands = [arg for arg in layer.args[1:3] if arg is not None]
    return all(isinstance(arg, Node) and arg.op == "get_attr" and len(arg.users) == 1 for arg in operands)


def _per_channel(model: GraphModule, constant, layer: Node) -> torch.Tensor | None:
    """The constant's values when it broadcasts along the layer's output channels only (one value, or one per
    channel on the channel axis); None otherwise."""
    if not isinstance(constant, Node) or constant.op != "get_attr":
        return None
    values = _value(model, constant)
    output = layer.meta.get("val")
    if output is None or values.dim() > output.dim():
        return None
    axis = LINEAR_LAYERS[layer.target] % output.dim()
    shape = (1,) * (output.dim() - values.dim()) + tuple(values.shape)
    channels = output.shape[axis]
    if all(size == 1 for size in shape):
        return values
    if shape[axis] == channels and all(size == 1 for n, size in enumerate(shape) if n != axis):
        return values
    return None


def _bias(model: GraphModule, layer: Node) -> torch.Tensor:
    weight = _value(model, layer.args[1])
    if len(layer.args) > 2 and layer.args[2] is not None:
        return _value(model, layer.args[2])
    return torch.zeros(weight.shape[0])


def _value(model: GraphModule, node: Node) -> torch.Tensor:
    value = model
    for part in node.target.split("."):
        value = getattr(value, part)
    return value.detach().float()
