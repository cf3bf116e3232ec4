"""`train --dry-run` / `prune --fit` estimate (sapool.models.footprint: a graph written from a torch.fx trace) vs
the real int8 export (written by the converter), both planned by sapool.planning's recipe as every command plans
(fused ops, kernel scratch) with `--patches off`, for every pooling kind × downsampling mode (docs/quantization.md,
"Footprint truth"). The two graphs come from independent writers; the recipe is the same by design. With patch
stages the figures can part: the estimate has no quantisation, so it cannot know when the export's kernels refuse
a stage (tests/test_planning.py compares the commands on a checkpoint where they agree)."""

from collections import Counter

import pytest

from sapool.ir.read import read_tflite_bytes
from sapool.models.footprint import int8_peak_activation
from sapool.planning import PlanOptions, plan_model
from tests.quantize.conftest import MODES, POOLS, needs_fashion_mnist

pytestmark = [needs_fashion_mnist, pytest.mark.slow]


@pytest.mark.parametrize("pool, mode", [(pool, mode) for mode in MODES for pool in POOLS])
def test_estimated_int8_peak_equals_the_compile_plan_of_the_export(small_export, pool, mode):
    export = small_export(pool, mode)
    real = plan_model(read_tflite_bytes(export.quantized.tflite, pool), None, PlanOptions(patches="off"))
    exported = real.graph
    estimate = int8_peak_activation(export.model, export.config, patches="off")
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
    # sapool's export writes each FULLY_CONNECTED as RESHAPE → 1×1 CONV_2D → RESHAPE (passes/fc_as_conv.py)
    fully_connected = estimated_ops.pop("FULLY_CONNECTED", 0)
    assert "FULLY_CONNECTED" not in exported_ops
    estimated_ops["CONV_2D"] += fully_connected
    estimated_ops["RESHAPE"] += 2 * fully_connected
    if pool == "sap-nowin":
        assert exported_ops.pop("LOGISTIC") - estimated_ops.pop("LOGISTIC", 0) == exported_ops["CUSTOM:SAPOOL_LOOKUP"]
    assert set(estimated_ops - exported_ops) <= {"RESHAPE"}
    assert set(exported_ops - estimated_ops) <= ({"TRANSPOSE"} if pool in ("sap", "sap-nowin", "lip") else set())
