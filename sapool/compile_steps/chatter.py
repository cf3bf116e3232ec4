"""Third-party output during a compile step: hidden unless -v.

torchao ("Failed to load …_C_cutlass…"), torch's pytree and exporter warnings, absl and oneDNN (written by
LiteRT's C++ straight to file descriptor 2) print 5–6 lines on every .pt2/.onnx compile, around sapool's own
one-line result or `Error:`. Python-level filters cannot reach the C++ writers, so while a step runs, descriptor 2
itself points at a temporary file that is dropped afterwards; sapool's own live display (the progress bar) keeps
the real terminal through a duplicate of the original descriptor. With -v nothing is redirected and everything
shows. The step's own messages (its summary line, warnings, an `Error:`) are printed after it, on the restored
stderr.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sapool.compile_steps.job import CompileJob


@contextmanager
def third_party_output(show: bool):
    """Yield the stream sapool's live display writes to during the step: stderr itself when `show`, else the
    terminal behind a redirected descriptor 2."""
    if show:
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", encoding=sys.stderr.encoding or "utf-8", errors="replace")
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            terminal.close()


def progress_display(job: CompileJob):
    """A transient rich progress display on stderr for a long step (hidden with -q / --format json)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=job.terminal) if job.terminal is not None else Console(stderr=True)
    return Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=job.request.quiet)
