"""Op lowerings, found by opcode.

Every module in sapool/backends/c/ops/ is one op family and defines:
- `OPCODES`: the TFLite builtin names it lowers;
- `check(graph, op)`: raise UnsupportedError (message without the op's name; the caller adds it) for what the
  kernel cannot do bit-exactly;
- `scratch_bytes(graph, op) -> int`: kernel scratch to declare to the memory planner (0 for none);
- `lower(ctx, graph, op) -> LoweredOp`: the op's C, computing at compile time everything TFLite's Prepare does.
Adding an op is adding one such module (and its kernel .c file); nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from sapool.backends.c import ops
from sapool.ir.graph import Graph

_REQUIRED = ("OPCODES", "check", "scratch_bytes", "lower")


def _discover() -> dict[str, ModuleType]:
    registry: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(ops.__path__):
        module = importlib.import_module(f"{ops.__name__}.{info.name}")
        missing = [name for name in _REQUIRED if not hasattr(module, name)]
        if missing:
            raise ImportError(f"op lowering {module.__name__} lacks {', '.join(missing)}")
        for opcode in module.OPCODES:
            if opcode in registry:
                raise ImportError(f"{opcode} is lowered by both {registry[opcode].__name__} and {module.__name__}")
            registry[opcode] = module
    return registry


LOWERINGS: dict[str, ModuleType] = _discover()


def lowering_for(opcode: str) -> ModuleType | None:
    """The module lowering `opcode`, or None when the C backend has no kernel for it."""
    return LOWERINGS.get(opcode)


def scratch_needs(graph: Graph) -> dict[int, int]:
    """{op index: scratch bytes} for the ops whose kernel needs a work buffer (e.g. CONV_2D's im2col patch).

    Sizes come from shapes only, so an unquantised estimate graph (models/footprint.py) gets the same figures as
    its export; an op without a kernel declares none (check_supported refuses it before anything is generated)."""
    needs = {op.index: lowering_for(op.opcode).scratch_bytes(graph, op) for op in graph.ops
             if lowering_for(op.opcode) is not None}
    return {index: size for index, size in needs.items() if size > 0}
