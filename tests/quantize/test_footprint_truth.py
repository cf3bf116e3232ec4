"""`train --dry-run` / `prune --fit` estimate (sapool.models.footprint) vs the real int8 export, planned alike,
for every pooling kind × downsampling mode (docs/quantization.md, "Footprint truth")."""

from collections import Counter

import pytest

from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import plan_layout
from sapool.models.footprint import int8_peak_activation
from tests.quantize.conftest import MODES, POOLS, needs_fashion_mnist

pytestmark = [needs_fashion_mnist, pytest.mark.slow]


@pytest.mark.parametrize("pool, mode", [(pool, mode) for mode in MODES for pool in POOLS])
def test_estimated_int8_peak_equals_the_planned_peak_of_the_export(small_export, pool, mode):
    export = small_export(pool, mode)
    exported = read_tflite_bytes(export.quantized.tflite, pool)
    estimate = int8_peak_activation(export.model, export.config)
    real = plan_layout(exported)
    assert estimate.peak_arena_bytes == real.peak_arena_bytes
    assert estimate.lower_bound_bytes == real.lower_bound_bytes
    # The only op differences, both documented: the estimate writes each flatten/view as a RESHAPE where the
    # converter folds some away (views hold no bytes), and the converter adds layout TRANSPOSEs around the
    # NCHW-ordered reshapes and elementwise ops of the SAP/LIP window arithmetic (copies, smaller than the peak).
    estimated_ops = Counter(op.opcode for op in estimate.graph.ops)
    exported_ops = Counter(op.opcode for op in exported.ops)
    assert set(estimated_ops - exported_ops) <= {"RESHAPE"}
    assert set(exported_ops - estimated_ops) <= ({"TRANSPOSE"} if pool in ("sap", "sap-nowin", "lip") else set())
