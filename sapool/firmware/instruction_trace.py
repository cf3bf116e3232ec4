"""Per-layer instruction mixes and cycles from one traced run of the harness firmware in QEMU.

QEMU 7.2 here has no instruction-counting plugins installed, but its own logs say enough: `-d in_asm` prints
every translation block once, when it is translated (address, encoding, mnemonic), and `-d exec,nochain` one line
each time a block runs (its host address and guest PC). Joining the two gives every executed instruction with its
class (cycle_model.classify), and the next block's PC tells whether a block's final branch was taken. Layers are
delimited by the blocks of `sapool_layer_begin` / `sapool_layer_end` (the harness's profiling hooks), found in
the ELF's symbol table. One inference is traced (the mix barely depends on the input); the trace log is deleted
once read.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sapool.firmware.cycle_model import CoreCosts, block_cycles, branch_extra, classify

TRACE_FLAGS = ("-d", "in_asm,exec,nochain")
_INSTRUCTION = re.compile(r"^0x([0-9a-f]{8}):\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)(?:\s+(.*))?$")
_EXEC = re.compile(r"^Trace \d+: (0x[0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/")


@dataclass
class _Block:
    pc: int
    kinds: Counter
    base_cycles: float
    fallthrough: int
    ends_in_jump: bool


@dataclass
class LayerMix:
    """What one layer executed: instructions by class, and the modelled cycles on the traced core."""

    instructions: int = 0
    classes: Counter = field(default_factory=Counter)
    cycles: float = 0.0


def symbol_addresses(elf: Path, names: tuple[str, ...]) -> dict[str, int]:
    """Addresses of function symbols (Thumb bit cleared), read with pyelftools."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as stream:
        table = ELFFile(stream).get_section_by_name(".symtab")
        found = {symbol.name: symbol["st_value"] & ~1 for symbol in table.iter_symbols() if symbol.name in names}
    missing = sorted(set(names) - set(found))
    if missing:
        raise ValueError(f"{elf} has no symbol {', '.join(missing)} (built without -DSAPOOL_PROFILE?)")
    return found


HOOKS = ("sapool_layer_begin", "sapool_layer_end")


def layer_mixes(log: Path, hooks: dict[str, int], layers: int, costs: CoreCosts) -> list[LayerMix]:
    """Read a `-d in_asm,exec,nochain` log: one LayerMix per layer of the first inference in it, in order. `hooks`
    are the addresses of the HOOKS functions (symbol_addresses of the ELF)."""
    blocks = _translations(log, costs)
    mixes = [LayerMix() for _ in range(layers)]
    started, current, pending, last_direction = 0, None, None, {}
    with open(log, errors="replace") as lines:
        for line in lines:
            executed = _EXEC.match(line)
            if executed is None:
                continue
            pc = int(executed[2], 16)
            if pending is not None:  # the block before this one ended in a branch: taken or not, predicted or not
                block, mix = pending
                taken = pc != block.fallthrough
                mix.cycles += branch_extra(costs, taken, last_direction.get(block.pc) == taken)
                last_direction[block.pc] = taken
                pending = None
            if pc in (hooks["sapool_layer_begin"], hooks["sapool_layer_end"]):  # the hooks count for no layer
                begins = pc == hooks["sapool_layer_begin"]
                if not begins and started >= layers:
                    break  # the first inference is complete (a board image goes on running its inputs)
                current = mixes[started] if begins and started < layers else None
                started += begins
                continue
            block = blocks.get(executed[1])
            if current is None or block is None:
                continue
            current.instructions += sum(block.kinds.values())
            current.classes.update(block.kinds)
            current.cycles += block.base_cycles
            if block.ends_in_jump:
                pending = (block, current)
    return mixes


def _translations(log: Path, costs: CoreCosts) -> dict[str, _Block]:
    """Every translated block, keyed by the host address its exec lines name. A block is bound to the first exec
    line of a not yet known host address at its start PC after its translation (an interrupt may run other blocks
    in between, and an older translation of the same PC, e.g. before an I/O recompile, keeps its own address)."""
    blocks: dict[str, _Block] = {}
    unbound: dict[int, _Block] = {}  # translated, not yet seen executing, by start PC
    current: list[tuple[int, int, object]] = []
    with open(log, errors="replace") as lines:
        for line in lines:
            decoded = _INSTRUCTION.match(line)
            if decoded is not None:
                size = 4 if decoded[3] else 2
                current.append((int(decoded[1], 16), size, classify(decoded[4], decoded[5] or "")))
                continue
            if current:
                block = _block(current, costs)
                unbound[block.pc] = block
                current = []
            executed = _EXEC.match(line)
            if executed is not None and executed[1] not in blocks and int(executed[2], 16) in unbound:
                blocks[executed[1]] = unbound.pop(int(executed[2], 16))
    return blocks


def _block(decoded: list[tuple[int, int, object]], costs: CoreCosts) -> _Block:
    instructions = [item[2] for item in decoded]
    last_pc, last_size, last = decoded[-1]
    return _Block(pc=decoded[0][0], kinds=Counter(item.kind for item in instructions),
                  base_cycles=block_cycles(instructions, costs), fallthrough=last_pc + last_size,
                  ends_in_jump=last.kind == "branch" or last.writes_pc)
