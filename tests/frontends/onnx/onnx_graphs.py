"""Build ONNX models by hand with onnx.helper, as a third-party tool would, without going through torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper


class OnnxGraph:
    """Nodes, random initializers and one float input; `save` writes a checked model file."""

    def __init__(self, input_shape, *, input_name="image", seed=0):
        self.input = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))
        self.input_name = input_name
        self.nodes, self.initializers = [], []
        self.random = np.random.default_rng(seed)

    def weight(self, name: str, shape, scale: float = 0.3, low: float | None = None) -> str:
        """A random float initializer (uniform in [low, low + scale] when `low` is given, else normal·scale)."""
        values = (self.random.uniform(low, low + scale, shape) if low is not None
                  else self.random.standard_normal(shape) * scale)
        return self.constant(name, values.astype(np.float32))

    def constant(self, name: str, values) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(values), name))
        return name

    def node(self, op_type: str, inputs, name: str, *, outputs=None, domain: str = "", **attributes) -> str:
        outputs = outputs or [name]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=name, domain=domain, **attributes))
        return outputs[0]

    def model(self, output: str, output_shape, opset: int = 17, extra_opsets=()) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, "handmade", [self.input],
                                  [helper.make_tensor_value_info(output, TensorProto.FLOAT, list(output_shape))],
                                  initializer=self.initializers)
        imports = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, v) for d, v in extra_opsets)]
        return helper.make_model(graph, opset_imports=imports, producer_name="handmade", ir_version=8)

    def save(self, path: Path, output: str, output_shape, opset: int = 17) -> Path:
        model = self.model(output, output_shape, opset)
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        return path


def run_onnxruntime(path: Path, x: np.ndarray) -> np.ndarray:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]
