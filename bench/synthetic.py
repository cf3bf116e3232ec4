"""Synthetic int8 .tflite models for planner scaling: long chains of elementwise ops with long skip connections.

Op k (k >= 1) reads the previous op's output and one earlier tensor picked at random, so many tensors stay live
for a long time and the planning problem has the structure that made `sapool plan` quadratic (unrolled sequence
models, big detectors and transformer stacks look like this to the planner). Tensor sizes come from a handful of
values. The ops are ADD/MUL with per-tensor int8 quantisation; shapes are [1, n] so the model is valid for the
reader (the planner only looks at sizes and lifetimes, never at the arithmetic).

    python bench/synthetic.py 1000 -o /tmp/skip1000.tflite
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as fb
from ai_edge_litert.tools.flatbuffer_utils import convert_object_to_bytearray

SIZES = (256, 512, 1024, 2048, 4096, 8192)  # elements (= bytes in int8) per tensor


def skip_chain_model(num_ops: int, seed: int = 0, sizes=SIZES) -> bytes:
    """A `num_ops`-op int8 model (one input, one output) as .tflite bytes; the same seed gives the same bytes."""
    rng = random.Random(seed)
    subgraph = fb.SubGraphT()
    subgraph.tensors = [_tensor(f"t{n}", rng.choice(sizes)) for n in range(num_ops + 1)]
    subgraph.operators = []
    for k in range(1, num_ops + 1):
        skip = rng.randrange(0, k)  # any earlier tensor, the model input included
        operator = fb.OperatorT()
        operator.opcodeIndex = k % 2  # ADD, MUL alternately
        operator.inputs, operator.outputs = [k - 1, skip], [k]
        operator.builtinOptionsType = (fb.BuiltinOptions.AddOptions, fb.BuiltinOptions.MulOptions)[k % 2]
        operator.builtinOptions = (fb.AddOptionsT, fb.MulOptionsT)[k % 2]()
        subgraph.operators.append(operator)
    subgraph.inputs, subgraph.outputs = [0], [num_ops]
    model = fb.ModelT()
    model.version, model.description = 3, f"sapool synthetic skip chain, {num_ops} ops, seed {seed}"
    model.operatorCodes = [_opcode(fb.BuiltinOperator.ADD), _opcode(fb.BuiltinOperator.MUL)]
    model.subgraphs = [subgraph]
    empty = fb.BufferT()
    empty.data = None
    model.buffers = [empty]
    return bytes(convert_object_to_bytearray(model))


def _tensor(name: str, elements: int) -> fb.TensorT:
    tensor = fb.TensorT()
    tensor.name, tensor.shape, tensor.type, tensor.buffer = name, [1, elements], fb.TensorType.INT8, 0
    quantization = fb.QuantizationParametersT()
    quantization.scale = np.array([0.05], np.float32)
    quantization.zeroPoint = np.array([0], np.int64)
    tensor.quantization = quantization
    return tensor


def _opcode(builtin: int) -> fb.OperatorCodeT:
    code = fb.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = builtin
    code.version = 1
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ops", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    args.output.write_bytes(skip_chain_model(args.ops, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
