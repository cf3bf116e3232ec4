"""The model's worst-case stack, predicted from the compiler's call graph before the firmware runs.

gcc's `-fcallgraph-info=su` writes, next to each object, a graph of the functions it defines (with their frame
sizes, "N bytes (static)") and the calls they make. The deepest chain of frames below `sapool_model_invoke` is the
stack the model can ever use: kernels allocate nothing else (no recursion, no variable-length arrays, no
malloc). Functions the build did not compile (newlib's memcpy, libgcc helpers) have no frame size in the graph;
they are leaf routines of a few words, counted as 0 and listed, so a reader knows what the bound leaves out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sapool.errors import BuildError

ROOT = "sapool_model_invoke"
_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*?(?:\\n(\d+) bytes \(([a-z,]+)\))?"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


@dataclass(frozen=True)
class StackBound:
    bytes: int  # deepest chain of frames from the root
    chain: tuple[str, ...]  # the functions on that chain, root first
    without_size: tuple[str, ...]  # called functions with no frame size in the graph (counted as 0)


def stack_bound(build_dir: Path, root: str = ROOT) -> StackBound:
    """The deepest frame chain under `root` in the call graphs (*.ci) of a build. BuildError when the build has
    none, when `root` is missing, or when a frame is dynamic or the graph recursive (no static bound exists)."""
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    files = sorted(Path(build_dir).rglob("*.ci"))
    if not files:
        raise BuildError(f"no call graph (*.ci) in {build_dir}: the project's Makefile predates -fcallgraph-info")
    for path in files:
        text = path.read_text(errors="replace")
        for name, size, kind in _NODE.findall(text):
            if size:
                if kind != "static":
                    raise BuildError(f"{name} has a {kind} stack frame: the model's stack has no static bound")
                frames[name] = max(frames.get(name, 0), int(size))
        for source, target in _EDGE.findall(text):
            calls.setdefault(source, set()).add(target)
    if root not in frames:
        raise BuildError(f"{root} is not in the build's call graph")
    missing: set[str] = set()
    depth, chain = _deepest(root, frames, calls, missing, ())
    return StackBound(depth, chain, tuple(sorted(missing)))


def _deepest(function: str, frames, calls, missing: set[str], path: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    if function in path:
        raise BuildError(f"recursive call through {function}: the model's stack has no static bound")
    if function not in frames:
        missing.add(function)
    best, best_chain = 0, ()
    for callee in sorted(calls.get(function, ())):
        depth, chain = _deepest(callee, frames, calls, missing, (*path, function))
        if depth > best:
            best, best_chain = depth, chain
    return frames.get(function, 0) + best, (function, *best_chain)
