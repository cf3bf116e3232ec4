"""The ONNX op table: op type → handler(builder, node, inputs) → Value or [Value, ...].

These are the ops sapool converts (each has an int8 lowering on the TFLite side, or folds away as constant
shape arithmetic). Anything else is an UnsupportedError naming the op type and the node; docs/frontends.md
has the same table with each op's limits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sapool.frontends.onnx import ops_constant, ops_elementwise, ops_layers, ops_pool, ops_tensor, ops_transformer

OP_HANDLERS = {
    # layers with weights
    "Conv": ops_layers.conv,
    "Gemm": ops_layers.gemm,
    "MatMul": ops_layers.matmul,
    "BatchNormalization": ops_layers.batch_normalization,
    "LayerNormalization": ops_transformer.layer_normalization,
    # pooling
    "MaxPool": ops_pool.max_pool,
    "AveragePool": ops_pool.average_pool,
    "GlobalAveragePool": ops_pool.global_average_pool,
    "GlobalMaxPool": ops_pool.global_max_pool,
    # element-wise and activations
    "Add": ops_elementwise.binary(torch.add),
    "Sub": ops_elementwise.binary(torch.sub),
    "Mul": ops_elementwise.binary(torch.mul),
    "Div": ops_elementwise.div,
    "Sum": ops_elementwise.variadic(torch.add),
    "Max": ops_elementwise.variadic(torch.maximum),
    "Min": ops_elementwise.variadic(torch.minimum),
    "Relu": ops_elementwise.unary(F.relu),
    "LeakyRelu": ops_elementwise.leaky_relu,
    "PRelu": ops_elementwise.prelu,
    "Clip": ops_elementwise.clip,
    "Sigmoid": ops_elementwise.unary(torch.sigmoid),
    "Tanh": ops_elementwise.unary(torch.tanh),
    "HardSwish": ops_elementwise.unary(F.hardswish),
    "Gelu": ops_transformer.gelu,
    "Softmax": ops_elementwise.softmax,
    "ReduceMean": ops_elementwise.reduce_mean,
    # data movement
    "Reshape": ops_tensor.reshape,
    "Flatten": ops_tensor.flatten,
    "Transpose": ops_tensor.transpose,
    "Concat": ops_tensor.concat,
    "Squeeze": ops_tensor.squeeze,
    "Unsqueeze": ops_tensor.unsqueeze,
    "Slice": ops_tensor.slice_,
    "Split": ops_tensor.split,
    "Gather": ops_tensor.gather,
    "Pad": ops_tensor.pad,
    "Resize": ops_tensor.resize,
    "Upsample": ops_tensor.resize,
    "Identity": ops_tensor.identity,
    "Dropout": ops_tensor.identity,
    # constants and shape arithmetic
    "Constant": ops_constant.constant_node,
    "Shape": ops_constant.shape,
    "Size": ops_constant.size,
    "Cast": ops_constant.cast,
    "ConstantOfShape": ops_constant.constant_of_shape,
    "Expand": ops_constant.expand,
    **ops_constant.FOLD_ONLY,
}
