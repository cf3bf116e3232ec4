"""ONNX graph → torch.fx GraphModule, node by node through the op table (registry.OP_HANDLERS).

Every op type is checked against the table before any conversion, so an unsupported op is reported by type and
node name at once. Nodes run in the file's order (ONNX requires topological order; onnx.checker checked it).
The probe input that gives every tensor its static shape is seeded, so conversion is deterministic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sapool.errors import SapoolError, UnsupportedError
from sapool.frontends.onnx.divergence import TracedTensor
from sapool.frontends.onnx.fuse import fuse_matmul_bias
from sapool.frontends.onnx.fuse_gelu import fuse_gelu
from sapool.frontends.onnx.node import OnnxNode, decode_attributes
from sapool.frontends.onnx.read import DEFAULT_DOMAINS, InputSpec, default_opset

DOCS = "docs/frontends.md lists the supported ops"
# what a user can do about an op sapool refuses, where there is something
WORKAROUNDS = {
    "Erf": "sapool converts Erf inside GELU's pattern x·0.5·(1 + erf(x/√2)) only; export GELU as nn.GELU "
           "(opset ≥ 20 writes one Gelu node), or use GELU's tanh form (approximate='tanh')",
    "Exp": "TFLite-Micro has no int8 EXP: write the function as a softmax, sigmoid or tanh, or a polynomial",
    "Sqrt": "Sqrt of run-time data has no int8 lowering; a Sqrt of shapes or constants folds away",
    "LSTM": "recurrent layers have no int8 lowering in sapool", "GRU": "recurrent layers have no int8 lowering",
}
FROM_TORCH = "a model from torch compiles more directly as a .pt2 (torch.export.save) than through ONNX"


@dataclass(frozen=True)
class Conversion:
    """The eval-mode GraphModule, and for each run-time ONNX tensor (graph order) the node that made it and the
    fx node computing it (what divergence.first_divergence compares)."""

    module: object
    traced: list[TracedTensor]


def convert(path: Path, model, spec: InputSpec) -> Conversion:
    """The model as an eval-mode GraphModule taking one tensor of `spec.module_shape`."""
    import torch
    from onnx import numpy_helper

    from sapool.frontends.onnx.builder import Const, FxBuilder, Traced
    from sapool.frontends.onnx.registry import OP_HANDLERS

    model = fuse_gelu(model)  # rewritten copies; the caller's model stays the file's (onnxruntime runs it)
    check_supported(path, model, OP_HANDLERS)
    model = fuse_matmul_bias(model)  # a rewritten copy; the caller's model stays the file's (onnxruntime runs it)
    opset = default_opset(model)
    builder = FxBuilder()
    values = {tensor.name: Const(torch.from_numpy(numpy_helper.to_array(tensor).copy()))
              for tensor in model.graph.initializer}
    probe = torch.randn(spec.module_shape, generator=torch.Generator().manual_seed(0))
    values[spec.name] = builder.input(spec.name, probe)
    traced = []
    with torch.no_grad():
        for index, proto in enumerate(model.graph.node):
            if spec.channels_last and spec.name in proto.input:  # the NHWC → NCHW Transpose: the module takes NCHW
                values[proto.output[0]] = values[spec.name]
                continue
            node = OnnxNode(proto.op_type, proto.name or f"{proto.op_type}_{index}", decode_attributes(proto),
                            tuple(proto.output), opset)
            inputs = [_lookup(path, node, values, name) for name in proto.input]
            known = set(builder.graph.nodes)
            result = _run_handler(path, node, OP_HANDLERS[proto.op_type], builder, inputs)
            for made in builder.graph.nodes:  # where each fx node came from, for the quantiser's messages
                if made not in known:
                    made.meta.setdefault("sapool_origin", f"ONNX {node.label}")
            for name, value in zip(proto.output, result if isinstance(result, list) else [result]):
                if name:
                    values[name] = value
                    if isinstance(value, Traced):
                        traced.append((name, node.label, value.node.name))
        builder.output([_lookup(path, None, values, output.name) for output in model.graph.output])
    return Conversion(builder.build(), traced)


def check_supported(path: Path, model, handlers: dict) -> None:
    """UnsupportedError naming the first node whose op sapool does not convert (and how many others)."""
    bad = [node for node in model.graph.node if node.domain not in DEFAULT_DOMAINS or node.op_type not in handlers]
    if not bad:
        return
    first = bad[0]
    op = first.op_type if first.domain in DEFAULT_DOMAINS else f"{first.domain}.{first.op_type}"
    others = Counter(node.op_type for node in bad[1:])
    more = f" (also: {', '.join(f'{t} ×{n}' for t, n in sorted(others.items()))})" if others else ""
    hint = WORKAROUNDS.get(first.op_type, FROM_TORCH)
    raise UnsupportedError(f"{path}: ONNX op {op} (node {first.name or '(unnamed)'!r}) is not supported: sapool "
                           f"has no int8 lowering for it{more}; {hint}; {DOCS}")


def _lookup(path: Path, node: OnnxNode | None, values: dict, name: str):
    if not name:
        return None  # an omitted optional input
    if name not in values:
        reader = f"{node.label} reads" if node else "the graph output is"
        raise UnsupportedError(f"{path}: {reader} {name!r}, an output sapool does not produce "
                               "(e.g. a Dropout mask or MaxPool indices)")
    return values[name]


def _run_handler(path: Path, node: OnnxNode, handler, builder, inputs):
    try:
        return handler(builder, node, inputs)
    except SapoolError as err:
        raise type(err)(f"{path}: {err}") from None
    except Exception as err:  # a torch error on a case the handler did not foresee: name the node, keep one line
        text = str(err).strip()
        reason = (text.splitlines()[0] if text else type(err).__name__)[:200]
        raise UnsupportedError(f"{path}: ONNX {node.label}: cannot convert ({reason})") from err
