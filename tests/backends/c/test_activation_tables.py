"""The 256-entry tables of LEAKY_RELU, HARD_SWISH and GELU (ops/activations.py) against TFLite's reference
kernels on every int8 input value, over many random quantisations: a table is right for all inputs or wrong."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as fb

from sapool.backends.c.ops.activations import table
from sapool.ir.read import read_tflite_bytes
from tests.backends.c.model_draw import Draw, options_table
from tests.backends.c.single_op_models import run_reference
from tests.ir.tflite_models import pack

CASES = 60
ALL_VALUES = np.arange(-128, 128, dtype=np.int8)


def _model(opcode: str, seed: int) -> bytes:
    draw = Draw(seed)
    in_q = (float(draw.log_uniform(0.002, 0.5)), draw.int(-128, 127))
    out_q = (float(draw.log_uniform(0.002, 0.5)), draw.int(-128, 127))
    options = {"LEAKY_RELU": options_table(fb.LeakyReluOptionsT, alpha=float(draw.log_uniform(0.001, 0.99))),
               "GELU": options_table(fb.GeluOptionsT, approximate=bool(seed % 2))}.get(opcode)
    source = draw.input([256], in_q)
    result = draw.output([256], out_q)
    draw.builder.op(getattr(fb.BuiltinOperator, opcode), [source], [result], options)
    return pack(draw.builder.build(draw.inputs, [result]))


@pytest.mark.parametrize("opcode", ["LEAKY_RELU", "HARD_SWISH", "GELU"])
def test_every_table_entry_is_tflites(opcode):
    wrong = []
    for seed in range(CASES):
        content = _model(opcode, seed)
        graph = read_tflite_bytes(content, opcode)
        if opcode == "HARD_SWISH" and graph.tensor(0).quantization.scale[0] / 128 >= graph.tensor(1).quantization.scale[0]:
            continue  # TFLite refuses this output scale (and so does the C backend's check)
        [expected] = run_reference(content, [ALL_VALUES])
        if not np.array_equal(table(graph, graph.ops[0]), expected):
            wrong.append(seed)
    assert not wrong, f"{opcode}: tables differ for seeds {wrong}"
