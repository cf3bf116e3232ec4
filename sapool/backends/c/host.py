"""Build generated C for the host and run it: the fast check that generated code is right.

The same sources that go into firmware are compiled with the host gcc under `-std=c99 -Wall -Wextra -Werror`
and AddressSanitizer + UndefinedBehaviorSanitizer (any report aborts the run), linked with a small runner that
streams inputs from a file. Tests compare its outputs with TFLite's reference kernels.
"""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np

from sapool.errors import MissingToolError, VerificationError

HOST_FLAGS = ("-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
              "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def build_host(files: dict[str, str], directory: Path, compiler: str = "gcc") -> Path:
    """Write `files` (from generate) under `directory`, compile them with the runner; returns the executable."""
    if shutil.which(compiler) is None:
        raise MissingToolError(f"{compiler} not found; install it with: apt-get install -y gcc")
    directory = Path(directory)
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    runner = directory / "host_runner.c"
    runner.write_text(resources.files(__package__).joinpath("host_runner.c").read_text(encoding="utf-8"))
    sources = sorted(str(directory / relative) for relative in files if relative.endswith(".c"))
    executable = directory / "host_runner"
    command = [compiler, *HOST_FLAGS, f"-I{directory / 'model'}", f"-I{directory / 'kernels' / 'include'}",
               *sources, str(runner), "-o", str(executable)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise VerificationError(f"host build failed:\n{completed.stderr.strip()}")
    return executable


def run_host(executable: Path, inputs: np.ndarray, output_bytes: int) -> np.ndarray:
    """Run the host build on `inputs` (N × input bytes, int8); returns N × `output_bytes` int8 outputs."""
    inputs = np.ascontiguousarray(inputs, dtype=np.int8).reshape(len(inputs), -1)
    directory = Path(executable).parent
    input_file, output_file = directory / "inputs.bin", directory / "outputs.bin"
    input_file.write_bytes(inputs.tobytes())
    completed = subprocess.run([str(executable), str(input_file), str(output_file)], capture_output=True, text=True)
    if completed.returncode != 0:
        raise VerificationError(f"host run failed (exit {completed.returncode}):\n{completed.stderr.strip()[-4000:]}")
    outputs = np.frombuffer(output_file.read_bytes(), dtype=np.int8)
    if outputs.size != len(inputs) * output_bytes:
        raise VerificationError(f"host run wrote {outputs.size} bytes for {len(inputs)} inputs of "
                                f"{output_bytes} output bytes each")
    return outputs.reshape(len(inputs), output_bytes)
