"""Small .tflite models built with the object API of LiteRT's schema module (ModelT → flatbuffer).

That is a different code path from the `tflite` package ir.read uses, so a field read wrongly does not cancel out.
Tests mutate the returned ModelT to make the one defect they are about.
"""

import numpy as np
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.tools.flatbuffer_utils import convert_object_to_bytearray

def make_tensor(name, shape, tensor_type=fb.TensorType.FLOAT32, buffer=0, quantization=None):
    tensor = fb.TensorT()
    tensor.name, tensor.shape, tensor.type, tensor.buffer = name, list(shape), tensor_type, buffer
    tensor.quantization = quantization
    return tensor


def make_buffer(array=None):
    buffer = fb.BufferT()
    buffer.data = None if array is None else np.frombuffer(np.ascontiguousarray(array).tobytes(), np.uint8)
    return buffer


def make_opcode(builtin, deprecated=None, custom=None):
    code = fb.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127) if deprecated is None else deprecated
    code.customCode = custom
    code.version = 1
    return code


def make_operator(opcode_index, inputs, outputs, options_type=fb.BuiltinOptions.NONE, options=None):
    operator = fb.OperatorT()
    operator.opcodeIndex, operator.inputs, operator.outputs = opcode_index, list(inputs), list(outputs)
    operator.builtinOptionsType, operator.builtinOptions = options_type, options
    return operator


def make_quantization(scale, zero_point, axis: int = 0) -> fb.QuantizationParametersT:
    """Affine quantisation; `scale`/`zero_point` are sequences (one entry per channel along `axis`) or scalars."""
    params = fb.QuantizationParametersT()
    params.scale = [float(s) for s in np.atleast_1d(scale)]
    params.zeroPoint = [int(z) for z in np.atleast_1d(zero_point)]
    params.quantizedDimension = axis
    return params


class ModelBuilder:
    """Assembles a one-subgraph ModelT: add tensors (constants get their own buffer), then ops, then `build`."""

    def __init__(self):
        self.tensors: list[fb.TensorT] = []
        self.buffers = [make_buffer()]
        self.operators: list[fb.OperatorT] = []
        self.opcodes: list[int] = []

    def tensor(self, name, shape, tensor_type=fb.TensorType.INT8, quantization=None, data=None) -> int:
        """Add a tensor and return its index; `data` (a numpy array of the tensor's dtype) makes it a constant."""
        buffer = 0
        if data is not None:
            buffer = len(self.buffers)
            self.buffers.append(make_buffer(data))
        self.tensors.append(make_tensor(name, shape, tensor_type, buffer, quantization))
        return len(self.tensors) - 1

    def op(self, builtin: int, inputs, outputs, options=None) -> None:
        """Add an operator; the options table type is taken from the options object's class (Conv2DOptionsT...)."""
        if builtin not in self.opcodes:
            self.opcodes.append(builtin)
        options_type = fb.BuiltinOptions.NONE
        if options is not None:
            options_type = getattr(fb.BuiltinOptions, type(options).__name__.removesuffix("T"))
        self.operators.append(make_operator(self.opcodes.index(builtin), inputs, outputs, options_type, options))

    def build(self, inputs, outputs) -> fb.ModelT:
        subgraph = fb.SubGraphT()
        subgraph.tensors, subgraph.operators = self.tensors, self.operators
        subgraph.inputs, subgraph.outputs = list(inputs), list(outputs)
        model = fb.ModelT()
        model.version, model.description = 3, "sapool test model"
        model.operatorCodes = [make_opcode(code) for code in self.opcodes]
        model.subgraphs, model.buffers = [subgraph], self.buffers
        return model


def tiny_float_model() -> fb.ModelT:
    """float32 CONV_2D (3×3, SAME, RELU6) → FULLY_CONNECTED without bias (input -1); [1,4,4,2] → [1,5]."""
    rng = np.random.default_rng(0)
    conv = fb.Conv2DOptionsT()
    conv.padding, conv.strideW, conv.strideH = fb.Padding.SAME, 1, 1
    conv.fusedActivationFunction = fb.ActivationFunctionType.RELU6
    conv.dilationWFactor = conv.dilationHFactor = 1
    fully_connected = fb.FullyConnectedOptionsT()
    subgraph = fb.SubGraphT()
    subgraph.tensors = [
        make_tensor("input", [1, 4, 4, 2]),
        make_tensor("conv/filter", [3, 3, 3, 2], buffer=1),
        make_tensor("conv/bias", [3], buffer=2),
        make_tensor("conv/out", [1, 4, 4, 3]),
        make_tensor("fc/weights", [5, 48], buffer=3),
        make_tensor("output", [1, 5]),
    ]
    subgraph.operators = [
        make_operator(0, [0, 1, 2], [3], fb.BuiltinOptions.Conv2DOptions, conv),
        make_operator(1, [3, 4, -1], [5], fb.BuiltinOptions.FullyConnectedOptions, fully_connected),
    ]
    subgraph.inputs, subgraph.outputs = [0], [5]
    model = fb.ModelT()
    model.version, model.description = 3, "sapool test model"
    model.operatorCodes = [make_opcode(fb.BuiltinOperator.CONV_2D), make_opcode(fb.BuiltinOperator.FULLY_CONNECTED)]
    model.subgraphs = [subgraph]
    model.buffers = [
        make_buffer(),
        make_buffer(rng.standard_normal((3, 3, 3, 2), np.float32)),
        make_buffer(np.array([0.5, -0.25, 1.0], np.float32)),
        make_buffer(rng.standard_normal((5, 48), np.float32)),
    ]
    return model


def pack(model: fb.ModelT, extra: bytes = b"") -> bytes:
    return bytes(convert_object_to_bytearray(model, extra))




def skip_chain_model(num_ops: int, seed: int = 0, sizes=(256, 1024, 4096)) -> bytes:
    """int8 ADDs where op k reads the previous output and one random earlier tensor (long skip connections).

    The small twin of bench/synthetic.py: the shape of graph that made planning quadratic.
    """
    rng = np.random.default_rng(seed)
    quantization = fb.QuantizationParametersT()
    quantization.scale, quantization.zeroPoint = np.array([0.05], np.float32), np.array([0], np.int64)
    subgraph = fb.SubGraphT()
    subgraph.tensors = [make_tensor(f"t{n}", [1, int(rng.choice(sizes))], fb.TensorType.INT8,
                                    quantization=quantization) for n in range(num_ops + 1)]
    subgraph.operators = [make_operator(0, [k - 1, int(rng.integers(0, k))], [k], fb.BuiltinOptions.AddOptions,
                                        fb.AddOptionsT()) for k in range(1, num_ops + 1)]
    subgraph.inputs, subgraph.outputs = [0], [num_ops]
    model = fb.ModelT()
    model.version = 3
    model.operatorCodes = [make_opcode(fb.BuiltinOperator.ADD)]
    model.subgraphs = [subgraph]
    model.buffers = [make_buffer()]
    return pack(model)
