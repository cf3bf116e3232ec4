"""Transformer ops written out as int8 ops before annotation (decompose.py's companion): layer_norm,
scaled_dot_product_attention (what nn.MultiheadAttention becomes under torch.export) and the multi-output
chunk/split/unbind that cut a packed Q/K/V projection apart.

- layer_norm(x) = (x − mean) · rsqrt(mean((x − mean)²) + ε) · γ + β over the normalised axes
                                                   → MEAN, SUB, MUL, MEAN, ADD, RSQRT, MUL, MUL, ADD
- scaled_dot_product_attention(q, k, v) = softmax(q·s @ kᵀ) @ v, s = 1/√d unless given
                                                   → MUL, TRANSPOSE, BATCH_MATMUL, SOFTMAX, BATCH_MATMUL
  (the BATCH_MATMUL → SOFTMAX → BATCH_MATMUL chain is what the C backend runs as its fused attention kernel)
- chunk / split / split_with_sizes / unbind        → one slice (or select) per piece
- softmax over an axis TFLite's SOFTMAX cannot take (it normalises the last axis; the converter's channel-last
  layout makes axis 1 of an image the last one)     → TRANSPOSE, RESHAPE to rows, SOFTMAX, RESHAPE, TRANSPOSE
  (litert-torch otherwise writes such a softmax out as float EXP/SUM/DIV)
litert-torch would otherwise lower layer_norm and attention after annotation, into float ops, and PT2E cannot
annotate an op with several outputs. Masks, causal attention, dropout and grouped-query attention are refused
(UnsupportedError naming the node and module): no int8 form is tested for them.
"""

from __future__ import annotations

import math

import torch
from torch.fx import GraphModule, Node

from sapool.errors import UnsupportedError

aten = torch.ops.aten
SPLITTING = frozenset({aten.chunk.default, aten.split.Tensor, aten.split_with_sizes.default, aten.unbind.int})
SOFTMAXES = frozenset({aten.softmax.int, aten._softmax.default})
IMAGE_RANK = 4


def decompose_transformer_ops(model: GraphModule, replace, constant, describe) -> None:
    """Rewrite layer_norm, scaled_dot_product_attention and the splitting ops of `model` in place. `replace`,
    `constant` and `describe` are decompose.py's node replacement, constant and node-origin helpers."""
    for node in list(model.graph.nodes):
        if node.op != "call_function":
            continue
        if node.target == aten.layer_norm.default:
            replace(model, node, lambda call, node=node: _layer_norm(call, model, node, constant))
        elif node.target == aten.scaled_dot_product_attention.default:
            _check_plain_attention(node, describe)
            replace(model, node, lambda call, node=node: _attention(call, model, node, constant))
        elif node.target in SPLITTING:
            _split(model, node)
        elif node.target in SOFTMAXES and _needs_last_axis(node):
            replace(model, node, lambda call, node=node: _softmax_on_last_axis(call, node))


def _layer_norm(call, model: GraphModule, node: Node, constant) -> Node:
    source, normalized_shape, weight, bias, eps = (list(node.args) + [None, None, 1e-5])[:5]
    axes = list(range(-len(normalized_shape), 0))
    mean = call(aten.mean.dim, source, axes, True)
    centred = call(aten.sub.Tensor, source, mean)
    variance = call(aten.mean.dim, call(aten.mul.Tensor, centred, centred), axes, True)
    epsilon = constant(model, node, torch.tensor(float(eps)))
    result = call(aten.mul.Tensor, centred, call(aten.rsqrt.default, call(aten.add.Tensor, variance, epsilon)))
    if weight is not None:
        result = call(aten.mul.Tensor, result, weight)
    if bias is not None:
        result = call(aten.add.Tensor, result, bias)
    return result


def _check_plain_attention(node: Node, describe) -> None:
    query, key, value, mask, dropout, causal = (list(node.args) + [None, 0.0, False])[:6]
    if mask is not None or causal or dropout or node.kwargs.get("enable_gqa"):
        raise UnsupportedError(f"scaled_dot_product_attention{describe(node)} with a mask, is_causal, dropout or "
                               "enable_gqa has no int8 lowering in sapool; plain (unmasked) attention has")


def _attention(call, model: GraphModule, node: Node, constant) -> Node:
    query, key, value = node.args[:3]
    depth = query.meta["val"].shape[-1]
    scale = node.kwargs.get("scale") or 1.0 / math.sqrt(depth)
    scaled = call(aten.mul.Tensor, query, constant(model, node, torch.tensor(float(scale))))
    scores = call(aten.matmul.default, scaled, call(aten.transpose.int, key, -2, -1))
    return call(aten.matmul.default, call(aten._softmax.default, scores, -1, False), value)


def _needs_last_axis(node: Node) -> bool:
    """TFLite's SOFTMAX normalises the last axis. The converter lays 4-D tensors out channel-last, so there axis 1
    is the one it takes as is; elsewhere the last axis."""
    rank = node.args[0].meta["val"].dim()
    return node.args[1] % rank != (1 if rank == IMAGE_RANK else rank - 1)


def _softmax_on_last_axis(call, node: Node) -> Node:
    """The axis moved last and the rest flattened into rows (2-D, which no layout pass touches), softmax over
    each row, then back."""
    source, axis = node.args[0], node.args[1]
    moved = call(aten.transpose.int, source, axis, -1)
    shape = list(moved.meta["val"].shape)
    rows = call(aten.reshape.default, moved, [-1, shape[-1]])
    normalised = call(aten.reshape.default, call(aten._softmax.default, rows, -1, False), shape)
    return call(aten.transpose.int, normalised, axis, -1)


def _split(model: GraphModule, node: Node) -> None:
    """Each getitem reader of a splitting node reads a slice (a select for unbind) of the source instead."""
    source, sizes, dim = _pieces(node)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    for reader in list(node.users):
        if reader.target is not _getitem():
            raise UnsupportedError(f"{_op(node)} (node {node.name}) is read whole; sapool handles its pieces only")
        index = reader.args[1]
        with model.graph.inserting_before(reader):
            if node.target == aten.unbind.int:
                piece = model.graph.call_function(aten.select.int, (source, dim, index))
            else:
                piece = model.graph.call_function(aten.slice.Tensor,
                                                  (source, dim, starts[index], starts[index] + sizes[index]))
        piece.meta = dict(reader.meta)
        reader.replace_all_uses_with(piece)
        model.graph.erase_node(reader)
    model.graph.erase_node(node)


def _pieces(node: Node) -> tuple[Node, list[int], int]:
    source = node.args[0]
    rank_sizes = source.meta["val"].shape
    dim = node.args[2] if len(node.args) > 2 else node.kwargs.get("dim", 0)
    if node.target == aten.unbind.int:
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
    dim %= len(rank_sizes)
    length = int(rank_sizes[dim])
    if node.target == aten.chunk.default:
        step = -(-length // node.args[1])
        sizes = [min(step, length - start) for start in range(0, length, step)]
    elif node.target == aten.split.Tensor:
        sizes = [min(node.args[1], length - start) for start in range(0, length, node.args[1])]
    elif node.target == aten.split_with_sizes.default:
        sizes = list(node.args[1])
    else:
        sizes = [1] * length
    return source, sizes, dim


def _getitem():
    import operator

    return operator.getitem


def _op(node: Node) -> str:
    return getattr(node.target, "__name__", str(node.target)).split(".")[0]
