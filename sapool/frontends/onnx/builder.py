"""FxBuilder: grows a torch.fx graph one ONNX node at a time, folding whatever is constant.

Every ONNX value becomes either a `Const` (known at conversion time: initializers, Constant nodes and anything
computed only from them, including Shape of a tensor, since all shapes are static) or a `Traced` value (an fx node
plus its value on a probe input, which gives every tensor's static shape). `call` runs a torch function eagerly
when all its inputs are constant and adds a graph node otherwise, so shape arithmetic (Shape → Gather → Concat →
Reshape) disappears and Reshape sees a plain tuple. Constants a graph node reads become buffers of the root module
and layers with weights become nn.Conv*/nn.Linear/nn.BatchNorm* submodules, so the PT2E quantiser sees weights as
module parameters and quantises convolutions per channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn


@dataclass(frozen=True)
class Const:
    """A value known at conversion time."""

    value: torch.Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)


@dataclass(frozen=True)
class Traced:
    """A run-time value: its fx node and its value on the probe input (static shape and dtype)."""

    node: fx.Node
    example: torch.Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.example.shape)


Value = Const | Traced


class FxBuilder:
    def __init__(self) -> None:
        self.root = nn.Module()
        self.graph = fx.Graph()
        self._attribute_names: set[str] = set()
        # id(constant tensor) → (tensor, its get_attr node): one buffer per constant; holding the tensor keeps its
        # id from being reused by another constant
        self._buffers: dict[int, tuple[torch.Tensor, fx.Node]] = {}

    def input(self, name: str, example: torch.Tensor) -> Traced:
        return Traced(self.graph.placeholder(_identifier(name)), example)

    def call(self, function, *args: Any, name: str, **kwargs: Any) -> Value:
        """`function(*args, **kwargs)`, where args may hold Values and tensors (also inside lists and tuples);
        a tensor argument of a graph node becomes a buffer, like a Const."""
        if not _any_traced((args, kwargs)):
            return Const(function(*_map(args, _const_value), **_map(kwargs, _const_value)))
        example = function(*_map(args, _example), **_map(kwargs, _example))
        node = self.graph.create_node("call_function", function, tuple(_map(args, self._node)),
                                      dict(_map(kwargs, self._node)), name=_identifier(name))
        return Traced(node, example)

    def module(self, module: nn.Module, value: Traced, *, name: str) -> Traced:
        """Apply a layer with weights (registered as a submodule of the root) to `value`."""
        attribute = self._attribute(name)
        self.root.add_module(attribute, module.eval())
        with torch.no_grad():
            example = module(value.example)
        return Traced(self.graph.call_module(attribute, (value.node,)), example)

    def output(self, values: list[Value]) -> None:
        nodes = [self._node(value) for value in values]
        self.graph.output(nodes[0] if len(nodes) == 1 else tuple(nodes))

    def build(self) -> fx.GraphModule:
        self.graph.lint()
        return fx.GraphModule(self.root, self.graph, class_name="OnnxModel").eval()

    def _node(self, value):
        if isinstance(value, Traced):
            return value.node
        if isinstance(value, Const):
            return self._constant_node(value.value)
        return self._constant_node(value)

    def _constant_node(self, tensor: torch.Tensor) -> fx.Node:
        if id(tensor) not in self._buffers:
            attribute = self._attribute("const")
            self.root.register_buffer(attribute, tensor.detach().clone())
            self._buffers[id(tensor)] = (tensor, self.graph.get_attr(attribute))
        return self._buffers[id(tensor)][1]

    def _attribute(self, name: str) -> str:
        base = _identifier(name)
        attribute, counter = base, 1
        while attribute in self._attribute_names:
            counter += 1
            attribute = f"{base}_{counter}"
        self._attribute_names.add(attribute)
        return attribute


def _identifier(name: str) -> str:
    """A Python identifier from an ONNX name ("/features/0/Conv" → "features_0_Conv")."""
    cleaned = re.sub(r"\W+", "_", name).strip("_") or "node"
    return f"n_{cleaned}" if cleaned[0].isdigit() else cleaned


def _any_traced(value) -> bool:
    if isinstance(value, Traced):
        return True
    if isinstance(value, (list, tuple)):
        return any(_any_traced(item) for item in value)
    if isinstance(value, dict):
        return any(_any_traced(item) for item in value.values())
    return False


def _map(value, leaf):
    """Apply `leaf` to every Value and tensor inside nested lists, tuples and dicts (other items unchanged)."""
    if isinstance(value, (Const, Traced, torch.Tensor)):
        return leaf(value)
    if isinstance(value, list):
        return [_map(item, leaf) for item in value]
    if isinstance(value, tuple):
        return tuple(_map(item, leaf) for item in value)
    if isinstance(value, dict):
        return {key: _map(item, leaf) for key, item in value.items()}
    return value


def _const_value(value: Const | torch.Tensor) -> torch.Tensor:
    return value.value if isinstance(value, Const) else value


def _example(value: Value | torch.Tensor) -> torch.Tensor:
    if isinstance(value, Traced):
        return value.example
    return _const_value(value)
