"""How the `sapool` command ends when something goes wrong: one `Error:` line and a documented exit code.

- SapoolError: its own exit code (README: 1 does not fit / mismatch, 2 bad input, 3 missing tool).
- Ctrl-C (SIGINT): exit 130, the shell convention (128 + 2); SIGTERM: exit 143 (128 + 15). SIGTERM is turned into
  an exception (`Terminated`) so that every `finally` and context manager runs: half-written outputs are removed.
- A third-party Python package that is not installed: exit 3 with the pip command that installs a version in
  sapool's range (pyproject.toml). A missing module of sapool itself is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib.metadata
import re
import signal

from sapool.errors import MissingToolError

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# Import name → distribution name, where they differ.
DISTRIBUTIONS = {"PIL": "pillow", "yaml": "pyyaml", "tflite_micro": "tflite-micro", "ai_edge_litert": "ai-edge-litert",
                 "litert_torch": "litert-torch", "elftools": "pyelftools", "sklearn": "scikit-learn"}


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (a BaseException, like KeyboardInterrupt)."""


def install_sigterm_handler() -> None:
    def _terminate(signum, frame):
        raise Terminated()

    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (sapool called from a library's worker thread): leave it alone
        pass


def missing_dependency(error: ModuleNotFoundError) -> MissingToolError | None:
    """The MissingToolError for a third-party package that is not installed, or None for anything else."""
    top = (error.name or "").split(".")[0]
    if not top or top == "sapool":
        return None
    distribution = DISTRIBUTIONS.get(top, top)
    return MissingToolError(f"the Python package '{distribution}' is not installed; install it with: "
                            f"pip install '{_pinned(distribution)}'")


def _pinned(distribution: str) -> str:
    """`name<range>` as sapool's own requirements give it (any extra included), else just the name."""
    try:
        requirements = importlib.metadata.requires("sapool") or []
    except importlib.metadata.PackageNotFoundError:
        requirements = []
    wanted = _normal(distribution)
    for requirement in requirements:
        found = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*([^;]*)", requirement)
        if found and _normal(found.group(1)) == wanted and found.group(3).strip():
            return f"{found.group(1)}{found.group(3).strip()}"
    return distribution


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
