"""Many generated models in one host executable, so single-op tests pay for one sanitizer build, not hundreds.

Each model's generated model.c is compiled through a wrapper that renames its three public symbols
(sapool_invoke, sapool_layer_names, sapool_layer_macs) to `<name>_<k>`; the kernels are compiled once; a small
generated main dispatches `runner K INPUTS OUTPUTS` to model k. Same sources and flags as sapool.backends.c.host.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from sapool.backends.c import generate, scratch_needs
from sapool.backends.c.host import HOST_FLAGS
from sapool.ir.graph import Graph
from sapool.memory.layout import UNBOUNDED, plan_layout

PUBLIC_SYMBOLS = ("sapool_invoke", "sapool_layer_names", "sapool_layer_macs")

RUNNER = """#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

{declarations}
static int (*const invokes[])(const void *, void *) = {{{table}}};
static const long input_bytes[] = {{{input_bytes}}};
static const long output_bytes[] = {{{output_bytes}}};
static int8_t input[{max_input}];
static int8_t output[{max_output}];

int main(int argc, char **argv)
{{
    FILE *inputs;
    FILE *outputs;
    int model;
    if (argc != 4) {{
        return 2;
    }}
    model = atoi(argv[1]);
    inputs = fopen(argv[2], "rb");
    outputs = fopen(argv[3], "wb");
    if (inputs == NULL || outputs == NULL) {{
        return 2;
    }}
    while (fread(input, 1, (size_t)input_bytes[model], inputs) == (size_t)input_bytes[model]) {{
        if (invokes[model](input, output) != 0) {{
            return 1;
        }}
        fwrite(output, 1, (size_t)output_bytes[model], outputs);
    }}
    fclose(inputs);
    return fclose(outputs) != 0;
}}
"""


def build_batch(graphs: list[Graph], directory: Path, compiler: str = "gcc") -> Path:
    """Generate every graph (one unbounded region) and build them into one executable; returns its path."""
    directory = Path(directory)
    sources, wrappers = {}, []
    for k, graph in enumerate(graphs):
        files = generate(graph, plan_layout(graph, (UNBOUNDED,), scratch=scratch_needs(graph)))
        for relative, text in files.items():
            if relative.startswith("model/"):
                _write(directory / f"model{k}" / Path(relative).name, text)
            else:
                sources[relative] = text
        renames = "".join(f"#define {symbol} {symbol}_{k}\n" for symbol in PUBLIC_SYMBOLS)
        wrappers.append(_write(directory / f"model{k}.c", f'{renames}#include "model{k}/model.c"\n'))
    kernels = [_write(directory / relative, text) for relative, text in sources.items()]  # headers included
    sizes = [(_io_bytes(graph, graph.inputs), _io_bytes(graph, graph.outputs)) for graph in graphs]
    runner = _write(directory / "batch_runner.c", RUNNER.format(
        declarations="".join(f"int sapool_invoke_{k}(const void *input, void *output);\n"
                             for k in range(len(graphs))),
        table=", ".join(f"sapool_invoke_{k}" for k in range(len(graphs))),
        input_bytes=", ".join(str(i) for i, _ in sizes), output_bytes=", ".join(str(o) for _, o in sizes),
        max_input=max(i for i, _ in sizes), max_output=max(o for _, o in sizes)))
    executable = directory / "batch_runner"
    command = [compiler, *HOST_FLAGS, f"-I{directory / 'kernels' / 'include'}",
               *(str(path) for path in kernels + wrappers if path.suffix == ".c"), str(runner), "-o", str(executable)]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return executable


def run_batch(executable: Path, model: int, inputs: np.ndarray, output_bytes: int) -> np.ndarray:
    """Run model `model` of the batch on each row of `inputs` (its graph inputs packed back to back, as bytes);
    returns one row of `output_bytes` bytes (as int8) per input."""
    input_file = executable.parent / f"inputs{model}.bin"
    output_file = executable.parent / f"outputs{model}.bin"
    input_file.write_bytes(np.ascontiguousarray(inputs).tobytes())
    completed = subprocess.run([str(executable), str(model), str(input_file), str(output_file)],
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return np.frombuffer(output_file.read_bytes(), np.int8).reshape(len(inputs), output_bytes)


def _io_bytes(graph: Graph, indices) -> int:
    return sum(graph.tensor(i).nbytes for i in indices)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
