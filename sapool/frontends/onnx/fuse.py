"""Graph rewrites made before conversion, so the torch module has the layers the quantiser expects.

Exporters write a linear layer on an N-D input (torch's `nn.Linear` on tokens, for one) as MatMul followed by an
Add of the bias, not as one Gemm. Converted literally that is a bias-free nn.Linear and a separate add: the int8
model then rounds twice (FULLY_CONNECTED, then ADD with its own scale) where the source model rounds once, and an
op is added. `fuse_matmul_bias` puts such pairs back together; the matmul handler takes the bias as a third input.
"""

from __future__ import annotations

from collections import Counter


def fuse_matmul_bias(model):
    """A copy of `model` where MatMul(x, W) → Add(·, b) is MatMul(x, W, b): W a 2-D initializer, b an initializer
    with one value per output column (leading 1s allowed), and the MatMul output read by that Add only. The copy
    is for conversion only: a three-input MatMul is not valid ONNX."""
    from onnx import numpy_helper

    model = _copy(model)
    graph = model.graph
    initializers = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    readers = Counter(name for node in graph.node for name in node.input)
    graph_outputs = {output.name for output in graph.output}
    producer = {node.output[0]: node for node in graph.node if node.op_type == "MatMul" and node.output}
    fused = []
    for add in graph.node:
        if add.op_type != "Add" or len(add.input) != 2:
            continue
        for left, right in (add.input, reversed(add.input)):
            matmul = producer.get(left)
            if matmul is None or readers[left] != 1 or left in graph_outputs or len(matmul.input) != 2:
                continue
            weight, bias = initializers.get(matmul.input[1]), initializers.get(right)
            if weight is None or bias is None or weight.ndim != 2:
                continue
            if bias.size != weight.shape[1] or any(size != 1 for size in bias.shape[:-1]):
                continue
            matmul.input.append(right)
            matmul.output[0] = add.output[0]
            fused.append(add)
            break
    for add in fused:
        graph.node.remove(add)
    return model


def _copy(model):
    copy = model.__class__()
    copy.CopyFrom(model)
    return copy
