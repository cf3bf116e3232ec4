"""Lookup regions (passes/fuse_lookup.py, ops/lookup_region.py): a run of int8 elementwise ops fed by one
tensor becomes one 256-entry table, equal on every int8 input to the unfused C kernels (host build, sanitizers
on) and to TFLite's reference kernels running the ops."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c import fuse_for_c
from sapool.backends.c.ops.lookup_region import region_table
from sapool.ir.read import read_tflite_bytes
from sapool.passes.fuse_lookup import FUSED_LOOKUP
from tests.backends.c.host_batch import build_batch, run_batch
from tests.backends.c.single_op_models import run_reference
from tests.ir.tflite_models import ModelBuilder, make_quantization, pack

SHAPE = [1, 4, 8, 8]  # 256 elements: every int8 value once
SEEDS = range(32)
BINARY = {"ADD": (fb.BuiltinOperator.ADD, fb.AddOptionsT), "SUB": (fb.BuiltinOperator.SUB, fb.SubOptionsT),
          "MUL": (fb.BuiltinOperator.MUL, fb.MulOptionsT)}
UNARY = {"LOGISTIC": (fb.BuiltinOperator.LOGISTIC, (1 / 256, -128)), "TANH": (fb.BuiltinOperator.TANH, (1 / 128, 0)),
         "RELU": (fb.BuiltinOperator.RELU, None), "QUANTIZE": (fb.BuiltinOperator.QUANTIZE, None)}
ACTIVATIONS = (fb.ActivationFunctionType.NONE, fb.ActivationFunctionType.RELU, fb.ActivationFunctionType.RELU6)


def _region_model(seed: int, constant_values=None, expose_first=False) -> bytes:
    """A random chain of 2–7 elementwise ops on x; binary ops take a uniform constant (scalar, [1] or a broadcast
    row) or x itself (as SAP's Horner polynomial does), in either operand order, with a random fused activation.
    Each output is quantised over the float range of the chain on all 256 inputs, as a calibrated export would be,
    so that the tables do not saturate."""
    rng = np.random.default_rng(seed)
    builder = ModelBuilder()
    scale, zero = rng.uniform(0.004, 0.08), int(rng.integers(-40, 40))
    source = builder.tensor("x", SHAPE, quantization=make_quantization(scale, zero))
    source_real = scale * (np.arange(-128, 128) - zero)
    current, real, produced = source, source_real, []
    for n, opcode in enumerate(rng.choice([*BINARY, *UNARY, "MUL", "ADD"], size=int(rng.integers(2, 8)))):
        if opcode in UNARY:
            builtin, fixed = UNARY[opcode]
            real = {"LOGISTIC": lambda r: 1 / (1 + np.exp(-r)), "TANH": np.tanh, "RELU": lambda r: np.maximum(r, 0),
                    "QUANTIZE": lambda r: r}[opcode](real)
            out = builder.tensor(f"t{n}", SHAPE, quantization=make_quantization(*(fixed or _calibrated(real))))
            builder.op(builtin, [current], [out])
        else:
            builtin, options_class = BINARY[opcode]
            if constant_values is None and rng.random() < 0.3:
                other, other_real = source, source_real
            else:
                shape = [[], [1], [1, 1, 1, 8]][int(rng.integers(3))] if constant_values is None else [1, 1, 1, 8]
                values = (np.full(shape, rng.integers(-128, 128), np.int8) if constant_values is None
                          else np.asarray(constant_values, np.int8).reshape(shape))
                c_scale, c_zero = rng.uniform(0.004, 0.05), int(rng.integers(-40, 40))
                other = builder.tensor(f"c{n}", shape, quantization=make_quantization(c_scale, c_zero), data=values)
                other_real = c_scale * (float(values.reshape(-1)[0]) - c_zero)
            options = options_class()
            options.fusedActivationFunction = int(rng.choice(ACTIVATIONS))
            swap = rng.random() < 0.5
            operands = [other, current] if swap else [current, other]
            first, second = (other_real, real) if swap else (real, other_real)
            real = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}[opcode](first, second)
            real = np.clip(real, 0, 6 if options.fusedActivationFunction == ACTIVATIONS[2] else np.inf) \
                if options.fusedActivationFunction != ACTIVATIONS[0] else real
            out = builder.tensor(f"t{n}", SHAPE, quantization=make_quantization(*_calibrated(real)))
            builder.op(builtin, operands, [out], options)
        produced.append(out)
        current = out
    return pack(builder.build([source], [produced[0], current] if expose_first else [current]))


def _calibrated(real: np.ndarray) -> tuple[float, int]:
    low, high = min(float(real.min()), 0.0), max(float(real.max()), 0.0)
    scale = max(high - low, 1e-3) / 255
    return scale, int(np.clip(round(-128 - low / scale), -128, 127))


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    models = [_region_model(seed) for seed in SEEDS]
    graphs = [read_tflite_bytes(model, f"region{seed}") for seed, model in zip(SEEDS, models)]
    fused = [fuse_for_c(graph) for graph in graphs]
    executable = build_batch([*graphs, *fused], tmp_path_factory.mktemp("lookup_regions"))
    return models, graphs, fused, executable


def test_every_region_becomes_one_lookup(regions):
    _, graphs, fused, _ = regions
    for graph, fused_graph in zip(graphs, fused):
        (op,) = fused_graph.ops
        assert op.opcode == FUSED_LOOKUP and len(op.options.region) == len(graph.ops)
        assert op.inputs == tuple(graph.inputs) and op.outputs == tuple(graph.outputs)


def test_table_equals_the_unfused_kernels_and_tflite_on_every_input(regions):
    models, graphs, fused, executable = regions
    every_value = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    distinct = []
    for k, (model, fused_graph) in enumerate(zip(models, fused)):
        unfused_c = run_batch(executable, k, every_value, 256)[0]
        fused_c = run_batch(executable, len(graphs) + k, every_value, 256)[0]
        reference = run_reference(model, [every_value.reshape(SHAPE)])[0].reshape(-1)
        table = region_table(fused_graph, fused_graph.ops[0])
        assert np.array_equal(unfused_c, reference), f"seed {k}: unfused kernels differ from TFLite"
        assert np.array_equal(table, unfused_c), f"seed {k}: table differs from the kernels"
        assert np.array_equal(fused_c, unfused_c), f"seed {k}: lookup kernel differs"
        distinct.append(len(set(table.tolist())))
    assert sum(count >= 16 for count in distinct) >= len(distinct) // 2, f"regions saturate: {distinct} outputs"


def test_a_constant_of_several_values_is_not_a_lookup():
    graph = read_tflite_bytes(_region_model(1, constant_values=range(8)), "varying")
    assert all(op.opcode != FUSED_LOOKUP for op in fuse_for_c(graph).ops)


def test_a_region_read_midway_is_not_a_lookup():
    graph = read_tflite_bytes(_region_model(2, expose_first=True), "exposed")
    first = fuse_for_c(graph).ops[0]  # the ops after it may still form a region of their own, fed by its output
    assert first.opcode == graph.ops[0].opcode and first.outputs == (graph.outputs[0],)
