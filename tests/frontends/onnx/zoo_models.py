"""ONNX model-zoo architectures, from the "light" test models the onnx wheel ships (onnx/backend/test/data/light).

Those files keep a zoo model's graph but replace every weight by a ConstantOfShape node filled with one value
(0.02), which makes every input give the same output and a parity check meaningless. `with_random_weights`
turns each such node into a seeded random initializer (He-scaled for conv/gemm weights, positive for 1-D
tensors so that BatchNormalization variances stay valid), and ends the graph at the logits (before a final
Softmax, which saturates and would hide differences), so the test compares a real function.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

LIGHT_MODELS = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def with_random_weights(name: str, path: Path, seed: int = 0) -> Path:
    source = LIGHT_MODELS / f"light_{name}.onnx"
    if not source.is_file():
        pytest.skip(f"{source} is not part of this onnx installation")
    model = onnx.load(str(source))
    shapes = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    random = np.random.default_rng(seed)
    kept = []
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = tuple(int(size) for size in shapes[node.input[0]])
            _remove_initializer(model, node.input[0])
            values = (random.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:])) if len(shape) > 1
                      else random.uniform(0.5, 1.5, shape))
            _replace_initializer(model, node.output[0], values.astype(np.float32))
        else:
            kept.append(node)
    if kept[-1].op_type == "Softmax":  # compare logits: a saturated softmax would hide differences
        logits = kept.pop().input[0]
        model.graph.output[0].name = logits
    del model.graph.node[:]
    model.graph.node.extend(kept)
    onnx.save(model, str(path))
    return path


def _remove_initializer(model, name: str) -> None:
    for container in (model.graph.initializer, model.graph.input):
        for index, item in enumerate(container):
            if item.name == name:
                del container[index]
                break


def _replace_initializer(model, name: str, values: np.ndarray) -> None:
    """Set initializer `name`; these IR-3 files must also list every initializer as a graph input."""
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name == name:
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(values, name))
            return
    model.graph.initializer.append(numpy_helper.from_array(values, name))
    if name not in {value.name for value in model.graph.input}:
        model.graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(values.shape)))
