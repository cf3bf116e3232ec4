"""Hostile inputs for the whole CLI, generated from a seed: what a fuzzing user (or a broken converter) would feed.

Each case is (kind, file name, bytes): the bytes are written to a fresh folder and
`sapool plan FILE … -o out.json` runs on them. Kinds:
- "mutated": a shared MLPerf Tiny model with random bytes flipped, a range zeroed, truncated or spliced;
- "structural": a well-formed flatbuffer describing nonsense (arity, ranks, omitted inputs, a cycle, no ops, no
  inputs or outputs, huge dimensions, references out of range);
- "names": markup, ANSI escapes and control characters in op and tensor names.
Used by tests/cli/test_hostile.py (a few hundred cases) and bench/fuzz.py (10,000, written to bench/results).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

from ai_edge_litert import schema_py_generated as fb

from tests.ir.tflite_models import make_opcode, pack, tiny_float_model

LIMIT_S = 5.0

HOSTILE_NAMES = ("[/bold]", "[link=http://x]y[/link]", "\x1b[31mred\x1b[0m", "a\nb\r\x00c", "\x1b]0;title\x07",
                 "[bold red]x", "\u202e\u200b", "%s%n{0}", "<script>&amp;</script>")


def _structural(rng: random.Random) -> bytes:
    model = tiny_float_model()
    graph = model.subgraphs[0]
    ops, tensors = graph.operators, graph.tensors
    choice = rng.randrange(12)
    if choice == 0:
        ops[rng.randrange(2)].inputs = ops[rng.randrange(2)].inputs[: rng.randrange(3)]
    elif choice == 1:
        ops[rng.randrange(2)].outputs = []
    elif choice == 2:
        tensors[rng.randrange(len(tensors))].shape = [rng.choice([1, 2, 3, 9])] * rng.randrange(0, 7)
    elif choice == 3:
        ops[rng.randrange(2)].inputs = [rng.choice([-1, 0, 3, 5]) for _ in range(rng.randrange(1, 5))]
    elif choice == 4:  # a cycle: the first op reads what the second writes
        ops[0].inputs = [5, 1, 2]
        ops[1].outputs = [0]
    elif choice == 5:
        graph.operators = []
    elif choice == 6:
        graph.inputs = []
    elif choice == 7:
        graph.outputs = []
    elif choice == 8:  # huge activation dimensions
        tensors[rng.choice([0, 3, 5])].shape = [rng.choice([2 ** 16, 2 ** 31 - 1, 7])] * rng.randrange(1, 5)
    elif choice == 9:
        ops[rng.randrange(2)].inputs.append(rng.choice([99, -7, 2 ** 31 - 1]))
    elif choice == 10:
        tensors[rng.randrange(len(tensors))].type = rng.randrange(0, 20)
    else:
        ops[rng.randrange(2)].opcodeIndex = rng.choice([1, 2, 7])
    return pack(model)


def _named(rng: random.Random) -> bytes:
    model = tiny_float_model()
    for tensor in model.subgraphs[0].tensors:
        tensor.name = rng.choice(HOSTILE_NAMES) + tensor.name
    model.operatorCodes[1] = make_opcode(fb.BuiltinOperator.CUSTOM, custom=rng.choice(HOSTILE_NAMES).encode())
    return pack(model)


def _mutated(rng: random.Random, originals: list[bytes]) -> bytes:
    data = bytearray(rng.choice(originals))
    how = rng.randrange(4)
    if how == 0:
        for _ in range(rng.randrange(1, 16)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == 1:
        start = rng.randrange(len(data))
        data[start:start + rng.randrange(1, 256)] = bytes(min(255, len(data) - start))
    elif how == 2:
        del data[rng.randrange(len(data)):]
    else:
        start = rng.randrange(len(data))
        data[start:start] = rng.randbytes(rng.randrange(1, 64))
    return bytes(data)


def hostile_cases(count: int, seed: int, shared: list[Path]) -> Iterator[tuple[str, str, bytes]]:
    """`count` cases (kind, file name, content); mutated shared models only when `shared` lists some."""
    rng = random.Random(seed)
    originals = [path.read_bytes() for path in shared]
    kinds = ["structural", "names"] + (["mutated", "mutated"] if originals else [])
    for n in range(count):
        kind = kinds[n % len(kinds)]
        if kind == "structural":
            yield kind, f"case{n}.tflite", _structural(rng)
        elif kind == "names":
            yield kind, f"case{n}.tflite", _named(rng)
        else:
            yield kind, f"case{n}.tflite", _mutated(rng, originals)


def run_case(folder: Path, name: str, content: bytes) -> dict:
    """Run `sapool plan` on one case in `folder` (in-process) and judge it against the allowed outcomes.

    Allowed: exit 0 with a strict-JSON report written; exit 1 (does not fit) with the report written and one
    `Error:` line; exit 2 or 3 with one `Error:` line and nothing written. Anything else is a failure, as is a
    case slower than LIMIT_S. Returns {"exit", "seconds", "problem" (None when allowed), "error"}.
    """
    from click.testing import CliRunner

    from sapool.cli import main

    model, report = folder / name, folder / "out.json"
    model.write_bytes(content)
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["plan", str(model), "--ram-budget", "16M", "--format", "json",
                                       "-o", str(report)])
    seconds = time.perf_counter() - started
    lines = result.stderr.splitlines()
    leftovers = sorted(p.name for p in folder.iterdir() if p.name not in (name, "out.json"))
    problem = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problem = f"uncaught {type(result.exception).__name__}: {result.exception}"
    elif result.exit_code not in (0, 1, 2, 3):
        problem = f"exit {result.exit_code}"
    elif result.exit_code != 0 and (len(lines) != 1 or not lines[0].startswith("Error: ")):
        problem = f"stderr is not one Error: line: {result.stderr[:200]!r}"
    elif result.exit_code in (0, 1) and not _strict_json_file(report):
        problem = "no strict-JSON report written"
    elif result.exit_code in (2, 3) and report.exists():
        problem = "a report was written for a failed run"
    elif leftovers:
        problem = f"left files behind: {leftovers}"
    elif seconds > LIMIT_S:
        problem = f"took {seconds:.1f} s"
    report.unlink(missing_ok=True)
    model.unlink()
    return {"exit": result.exit_code, "seconds": seconds, "problem": problem,
            "error": lines[0][:160] if lines else None}


def _strict_json_file(path: Path) -> bool:
    def refuse(constant):
        raise ValueError(constant)

    try:
        json.loads(path.read_text(), parse_constant=refuse)
    except (OSError, ValueError):
        return False
    return True
