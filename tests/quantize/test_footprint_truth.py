"""`train --dry-run` / `prune --fit` estimate (sapool.models.footprint) vs the real int8 export as `sapool compile`
plans it for the firmware with `--patches off` (the C backend's fused ops and kernel scratch), for every pooling kind × downsampling
mode (docs/quantization.md, "Footprint truth")."""

from collections import Counter

import pytest

from sapool.backends.c import prepare_for_c, scratch_needs
from sapool.ir.read import read_tflite_bytes
from sapool.memory.layout import plan_layout
from sapool.models.footprint import int8_peak_activation
from tests.quantize.conftest import MODES, POOLS, needs_fashion_mnist

pytestmark = [needs_fashion_mnist, pytest.mark.slow]


@pytest.mark.parametrize("pool, mode", [(pool, mode) for mode in MODES for pool in POOLS])
def test_estimated_int8_peak_equals_the_compile_plan_of_the_export(small_export, pool, mode):
    export = small_export(pool, mode)
    exported = prepare_for_c(read_tflite_bytes(export.quantized.tflite, pool), patches="off")
    estimate = int8_peak_activation(export.model, export.config, patches="off")
    real = plan_layout(exported, scratch=scratch_needs(exported))
    assert estimate.peak_arena_bytes == real.peak_arena_bytes
    assert estimate.lower_bound_bytes == real.lower_bound_bytes
    estimated_ops = Counter(op.opcode for op in estimate.graph.ops)
    exported_ops = Counter(op.opcode for op in exported.ops)
    fused = {opcode for opcode in exported_ops | estimated_ops if opcode.startswith("CUSTOM:")}
    assert {o: estimated_ops[o] for o in fused} == {o: exported_ops[o] for o in fused}  # the same fusions
    # The only other op differences, all documented: the estimate writes each flatten/view as a RESHAPE where the
    # converter folds some away (views hold no bytes), and the converter adds layout TRANSPOSEs around the
    # NCHW-ordered reshapes and elementwise ops of the SAP/LIP window arithmetic (copies, smaller than the peak);
    # in sap-nowin one of them sits between the sigmoid and the exp polynomial, so the export's LOGISTIC stays
    # outside the lookup region where the estimate's joins it (an in-place op either way: no bytes).
    if pool == "sap-nowin":
        assert exported_ops.pop("LOGISTIC") - estimated_ops.pop("LOGISTIC", 0) == exported_ops["CUSTOM:SAPOOL_LOOKUP"]
    assert set(estimated_ops - exported_ops) <= {"RESHAPE"}
    assert set(exported_ops - estimated_ops) <= ({"TRANSPOSE"} if pool in ("sap", "sap-nowin", "lip") else set())
