"""The cycle model on hand-counted instruction sequences (the Cortex-M TRMs' timings as cycle_model states them)
and the trace reader on a QEMU log written out by hand."""

from __future__ import annotations

import pytest

from sapool.firmware.cycle_model import CORE_COSTS, block_cycles, branch_extra, classify
from sapool.firmware.instruction_trace import layer_mixes

M4, M7 = CORE_COSTS["cortex-m4"], CORE_COSTS["cortex-m7"]


@pytest.mark.parametrize("mnemonic, operands, kind", [
    ("ldr.w", "r3, [r2, #0xd88]", "load"), ("ldrsb", "r1, [r0]", "load"), ("ldrd", "r4, r5, [r1]", "load_pair"),
    ("strb.w", "r0, [r1], #1", "store"), ("strd", "r2, r3, [sp]", "store_pair"), ("push.w", "{r4-r11, lr}", "multiple"),
    ("smlad", "r0, r1, r2, r0", "mac"), ("smmulr", "r0, r1, r2", "mac"), ("mla", "r0, r1, r2, r3", "mac"),
    ("sxtb16", "r1, r2", "alu"), ("movlt", "r0, #0", "alu"), ("it", "lt", "alu"), ("bls.w", "#0x40", "branch"),
    ("bl", "#0x1000", "branch"), ("cbz", "r0, #0x20", "branch"), ("sdiv", "r0, r1, r2", "div"), ("dsb", "sy", "other"),
])
def test_classes(mnemonic, operands, kind):
    assert classify(mnemonic, operands).kind == kind


def test_register_lists_and_pops_that_return():
    pop = classify("pop", "{r4, r5, r6, pc}")
    assert pop.kind == "multiple" and pop.registers == 4 and pop.writes_pc
    assert classify("push.w", "{r4-r11, lr}").registers == 9


def test_m4_pipelines_neighbouring_single_loads_and_stores():
    """ldr 2, ldr 1 (pipelined), add 1, str 2, ldrd 3, push {3 regs} 1+3 = 13."""
    block = [classify("ldr", "r0, [r1]"), classify("ldr", "r2, [r1, #4]"), classify("add", "r0, r0, r2"),
             classify("str", "r0, [r3]"), classify("ldrd", "r4, r5, [r6]"), classify("push", "{r4, r5, lr}")]
    assert block_cycles(block, M4) == 13


def test_m7_dual_issues_independent_neighbours_only():
    """(sxtb16 r1 | ldr r4) pair: 1; (smlad r0 | add r5) pair: 1; add r6, r5 is left alone: 1. Two adds where the
    second reads the first's result do not pair: 2."""
    independent = [classify("sxtb16", "r1, r2"), classify("ldr", "r4, [r3]"), classify("smlad", "r0, r1, r4, r0"),
                   classify("add", "r5, r5, #4"), classify("add", "r6, r5, #1")]
    assert block_cycles(independent, M7) == 3
    dependent = [classify("add", "r1, r1, #1"), classify("add", "r2, r1, #1")]
    assert block_cycles(dependent, M7) == 2 and block_cycles(dependent, M4) == 2


def test_branch_costs():
    assert branch_extra(M4, taken=True, predicted=False) == 2 and branch_extra(M4, taken=False, predicted=False) == 0
    assert branch_extra(M7, taken=True, predicted=True) == 0 and branch_extra(M7, taken=False, predicted=False) == 6


LOG = """----------------
IN: sapool_layer_begin
0x00000100:  4770       bx       lr

Trace 0: 0x7f0000000100 [00000000/00000100/00000110/ff020200] sapool_layer_begin
----------------
IN: loop
0x00000200:  3801       subs     r0, #1
0x00000202:  d1fd       bne      #0x200

Trace 0: 0x7f0000000200 [00000000/00000200/00000110/ff020200] loop
Trace 0: 0x7f0000000200 [00000000/00000200/00000110/ff020200] loop
Trace 0: 0x7f0000000200 [00000000/00000200/00000110/ff020200] loop
----------------
IN: after
0x00000204:  f8d2 3d88  ldr.w    r3, [r2, #0xd88]
0x00000208:  4770       bx       lr

Trace 0: 0x7f0000000300 [00000000/00000204/00000110/ff020200] after
----------------
IN: sapool_layer_end
0x00000300:  4770       bx       lr

Trace 0: 0x7f0000000400 [00000000/00000300/00000110/ff020200] sapool_layer_end
"""


def test_a_traced_layer_counts_each_executed_block_and_its_branches(tmp_path):
    """The loop runs three times (taken, taken, not taken), then ldr + bx: 8 instructions. M4: 3 x (subs 1 + bne 1)
    + 2 x 2 taken extra + ldr 2 + bx 1 + 2 (the bx to sapool_layer_end is taken) = 15."""
    log = tmp_path / "trace.log"
    log.write_text(LOG)
    (mix,) = layer_mixes(log, {"sapool_layer_begin": 0x100, "sapool_layer_end": 0x300}, 1, M4)
    assert mix.instructions == 8
    assert dict(mix.classes) == {"alu": 3, "branch": 4, "load": 1}
    assert mix.cycles == 15
