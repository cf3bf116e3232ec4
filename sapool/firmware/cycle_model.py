"""Cycles from executed instructions: a documented per-core cost model (QEMU counts instructions, not cycles).

The emulator's trace (firmware.instruction_trace) gives, per layer, every executed translation block: its
instructions and whether the branch ending it was taken. Each instruction falls into a class (`classify`) and each
class costs cycles per core (`CORE_COSTS`, from the Cortex-M4/M33/M7/M55/M0+ Technical Reference Manuals'
instruction timings). What the model assumes, stated with every figure it produces (`ASSUMPTIONS`):
- every load and instruction fetch hits zero-wait memory: TCM, a cache hit, or flash behind ST's ART accelerator /
  prefetch. Flash wait states on weight reads and cache misses are not modelled, so the figure is a lower bound
  where weights stream from flash faster than those hide it;
- M4/M33/M55: a single load or store costs 2 cycles, 1 when it follows another single load or store (the TRMs'
  pipelined address/data phases); LDRD/STRD 3; LDM/STM/PUSH/POP 1 + registers; multiplies and DSP MACs 1; SDIV 7
  (2-12 by operand); a taken branch 3 (1 + a 2-cycle refill), not taken 1; everything else 1;
- M7: loads and stores 1 (64-bit TCM/cache), LDM/STM 1 + registers/2; two neighbouring instructions dual-issue (1
  cycle for both) unless the second reads or writes the register the first writes, both access memory, both
  multiply, or either branches; a branch costs 1 when its
  direction repeats the last one of the same branch (the predictor's guess) and 1 + 6 otherwise;
- M0+ / M0 (no DSP, reference kernels only): loads/stores 2, multiplies 1 (the fast multiplier), taken branches
  2 (M0+, 2-stage pipeline) / 3 (M0).
The figure checks nothing by itself: a user with a board compares it with the DWT cycle counter
(docs/firmware.md, "Latency").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CLASSES = ("alu", "mac", "div", "load", "store", "load_pair", "store_pair", "multiple", "branch", "other")


@dataclass(frozen=True)
class CoreCosts:
    core: str
    load: float  # a single load, not pipelined behind another access
    store: float
    pipelined_access: float  # a single load/store right after another one
    pair: float  # LDRD / STRD
    multiple_base: float  # LDM/STM/PUSH/POP: base + per_register × registers
    per_register: float
    mac: float
    div: float
    taken_branch: float
    untaken_branch: float
    mispredict: float = 0.0  # extra when a predicting core guesses wrong (0: no predictor, `taken_branch` applies)
    dual_issue: bool = False


_M4_LIKE = dict(load=2, store=2, pipelined_access=1, pair=3, multiple_base=1, per_register=1, mac=1, div=7,
                taken_branch=3, untaken_branch=1)
CORE_COSTS = {
    "cortex-m4": CoreCosts("cortex-m4", **_M4_LIKE),
    "cortex-m33": CoreCosts("cortex-m33", **_M4_LIKE),
    "cortex-m55": CoreCosts("cortex-m55", **_M4_LIKE),
    "cortex-m7": CoreCosts("cortex-m7", load=1, store=1, pipelined_access=1, pair=1, multiple_base=1,
                           per_register=0.5, mac=1, div=7, taken_branch=1, untaken_branch=1, mispredict=6,
                           dual_issue=True),
    "cortex-m0plus": CoreCosts("cortex-m0plus", load=2, store=2, pipelined_access=2, pair=2, multiple_base=1,
                               per_register=1, mac=1, div=1, taken_branch=2, untaken_branch=1),
    "cortex-m0": CoreCosts("cortex-m0", load=2, store=2, pipelined_access=2, pair=2, multiple_base=1,
                           per_register=1, mac=1, div=1, taken_branch=3, untaken_branch=1),
}
ASSUMPTIONS = ("cycle model: TRM instruction timings per class; zero-wait memory assumed (TCM, cache hits, flash "
               "behind ART/prefetch): flash wait states on weight reads and cache misses are not counted, so this "
               "is a lower bound where they are not hidden")

_CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")
_MAC_PREFIXES = ("mul", "mla", "mls", "smla", "smul", "smmu", "smml", "smls", "smua", "smus", "umul", "umla",
                 "umaal")
_OTHER = ("dsb", "isb", "dmb", "bkpt", "svc", "nop", "pld", "wfi", "wfe", "cps", "msr", "mrs", "sev", "yield")
_REGISTER_RANGE = re.compile(r"r(\d+)\s*-\s*r(\d+)")
_REGISTER = re.compile(r"\b(r\d+|ip|lr|sp|sl|fp|sb)\b")
_NO_DESTINATION = ("str", "stm", "push", "cmp", "cmn", "tst", "teq", "it", "pld", "dsb", "isb", "dmb")


@dataclass(frozen=True)
class Instruction:
    kind: str  # one of CLASSES
    registers: int = 0  # transferred by LDM/STM/PUSH/POP
    writes_pc: bool = False  # ends in a jump whatever its class (POP {.., pc}, LDR pc, ...)
    writes: str | None = None  # the register it writes (its first operand), for dual-issue dependencies
    reads: frozenset = frozenset()  # the registers it names otherwise


def classify(mnemonic: str, operands: str = "") -> Instruction:
    """The class of one Thumb instruction as QEMU's disassembler prints it (`ldr.w`, `smlad`, `bne.w`, `pop`)."""
    base = mnemonic.lower().split(".")[0]
    operands = operands.lower()
    writes_pc = bool(re.match(r"pc\b", operands)) or ("pc}" in operands and base.startswith(("pop", "ldm")))
    named = _REGISTER.findall(operands)
    if named and not base.startswith(_NO_DESTINATION) and not _is_branch(base):
        return _with_registers(_kind_of(base, operands, writes_pc), named[0], frozenset(named[1:]))
    return _with_registers(_kind_of(base, operands, writes_pc), None, frozenset(named))


def _with_registers(instruction: Instruction, writes: str | None, reads: frozenset) -> Instruction:
    return Instruction(instruction.kind, instruction.registers, instruction.writes_pc, writes, reads)


def _kind_of(base: str, operands: str, writes_pc: bool) -> Instruction:
    if _is_branch(base):
        return Instruction("branch", writes_pc=True)
    if base in ("push", "pop") or base.startswith(("ldm", "stm")):
        return Instruction("multiple", _register_count(operands), writes_pc)
    if base.startswith("ldrd"):
        return Instruction("load_pair", writes_pc=writes_pc)
    if base.startswith("strd"):
        return Instruction("store_pair")
    if base.startswith("ldr") or base.startswith("lda"):
        return Instruction("load", writes_pc=writes_pc)
    if base.startswith("str") or base.startswith("stl"):
        return Instruction("store")
    if base.startswith(("sdiv", "udiv")):
        return Instruction("div")
    if base.startswith(_MAC_PREFIXES):
        return Instruction("mac")
    if base.startswith(_OTHER):
        return Instruction("other")
    return Instruction("alu", writes_pc=writes_pc)


def _is_branch(base: str) -> bool:
    if base in ("b", "bl", "blx", "bx", "cbz", "cbnz", "tbb", "tbh"):
        return True
    return base.startswith("b") and base[1:] in _CONDITIONS


def _register_count(operands: str) -> int:
    inside = operands[operands.find("{") + 1:operands.find("}")] if "{" in operands else ""
    count = 0
    for item in filter(None, (part.strip() for part in inside.split(","))):
        ranged = _REGISTER_RANGE.fullmatch(item)
        count += int(ranged[2]) - int(ranged[1]) + 1 if ranged else 1
    return max(count, 1)


def block_cycles(instructions: list[Instruction], costs: CoreCosts) -> float:
    """Cycles of a straight-line block, its final branch counted as not taken (the trace adds the rest)."""
    cycles, previous, index = 0.0, None, 0
    while index < len(instructions):
        current = instructions[index]
        following = instructions[index + 1] if index + 1 < len(instructions) else None
        if costs.dual_issue and following is not None and _pairs(current, following):
            cycles += 1
            previous, index = following, index + 2
            continue
        cycles += _cost(current, previous, costs)
        previous, index = current, index + 1
    return cycles


def _pairs(first: Instruction, second: Instruction) -> bool:
    """Whether a dual-issuing core (M7) can issue the two together in this model."""
    memory = ("load", "store", "load_pair", "store_pair", "multiple")
    if {first.kind, second.kind} & {"branch", "multiple", "div", "other"} or first.writes_pc:
        return False
    if first.writes is not None and (first.writes in second.reads or first.writes == second.writes):
        return False  # the second needs the first's result
    return not (first.kind in memory and second.kind in memory) and not (first.kind == second.kind == "mac")


def _cost(instruction: Instruction, previous: Instruction | None, costs: CoreCosts) -> float:
    kind = instruction.kind
    if kind in ("load", "store"):
        pipelined = previous is not None and previous.kind in ("load", "store")
        return costs.pipelined_access if pipelined else (costs.load if kind == "load" else costs.store)
    if kind in ("load_pair", "store_pair"):
        return costs.pair
    if kind == "multiple":
        return costs.multiple_base + costs.per_register * instruction.registers
    if kind == "mac":
        return costs.mac
    if kind == "div":
        return costs.div
    if kind == "branch":
        return costs.untaken_branch
    return 1.0


def branch_extra(costs: CoreCosts, taken: bool, predicted: bool) -> float:
    """What a block's final branch adds to its not-taken cost: the refill when taken on a core without a
    predictor, the mispredict penalty on one with."""
    if costs.mispredict:
        return 0.0 if predicted else costs.mispredict
    return costs.taken_branch - costs.untaken_branch if taken else 0.0


def costs_for(core: str) -> CoreCosts:
    """The cost table of `core` (a target's `core`, e.g. "cortex-m7"); an unknown core gets the M4's (and the
    assumptions say which core was costed)."""
    return CORE_COSTS.get(core.lower(), CORE_COSTS["cortex-m4"])
