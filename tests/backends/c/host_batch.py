"""Many generated models in one host executable, so single-op tests pay for one sanitizer build, not hundreds.

Each model's generated model.c is compiled through a wrapper that renames its public symbols (model.h's API and
the layer tables) to `<name>_<k>`; the kernels are compiled once; a small
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

PUBLIC_SYMBOLS = ("sapool_model_init", "sapool_model_input", "sapool_model_output", "sapool_model_input_bytes",
                  "sapool_model_output_bytes", "sapool_model_invoke", "sapool_layer_names", "sapool_layer_macs")
_API = ("int sapool_model_init_{k}(void);\nvoid *sapool_model_input_{k}(int i);\n"
        "const void *sapool_model_output_{k}(int i);\nsize_t sapool_model_input_bytes_{k}(int i);\n"
        "size_t sapool_model_output_bytes_{k}(int i);\nint sapool_model_invoke_{k}(void);\n")
_ENTRY = ("{{sapool_model_init_{k}, sapool_model_input_{k}, sapool_model_output_{k}, sapool_model_input_bytes_{k}, "
          "sapool_model_output_bytes_{k}, sapool_model_invoke_{k}}}")

RUNNER = """#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

{declarations}
struct model {{
    int (*init)(void);
    void *(*input)(int);
    const void *(*output)(int);
    size_t (*input_bytes)(int);
    size_t (*output_bytes)(int);
    int (*invoke)(void);
}};
static const struct model models[] = {{{table}}};

int main(int argc, char **argv)
{{
    const struct model *model;
    FILE *inputs;
    FILE *outputs;
    int i;
    if (argc != 4) {{
        return 2;
    }}
    model = &models[atoi(argv[1])];
    inputs = fopen(argv[2], "rb");
    outputs = fopen(argv[3], "wb");
    if (inputs == NULL || outputs == NULL || model->init() != 0) {{
        return 2;
    }}
    for (;;) {{
        for (i = 0; model->input_bytes(i) > 0; ++i) {{
            if (fread(model->input(i), 1, model->input_bytes(i), inputs) != model->input_bytes(i)) {{
                fclose(inputs);
                return fclose(outputs) != 0;
            }}
        }}
        if (model->invoke() != 0) {{
            return 1;
        }}
        for (i = 0; model->output_bytes(i) > 0; ++i) {{
            fwrite(model->output(i), 1, model->output_bytes(i), outputs);
        }}
    }}
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
    runner = _write(directory / "batch_runner.c", RUNNER.format(
        declarations="".join(_API.format(k=k) for k in range(len(graphs))),
        table=", ".join(_ENTRY.format(k=k) for k in range(len(graphs)))))
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


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
