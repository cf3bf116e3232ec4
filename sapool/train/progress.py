"""Training progress on the terminal: a rich bar per epoch with loss, accuracy and throughput, and one line per epoch.

Goes to stderr so that `--json` output on stdout stays machine-readable; disabled by `-q` and on every
torchrun process but rank 0.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class TrainingProgress:
    """Use as a context manager around the whole run; `enabled=False` prints nothing at all."""

    def __init__(self, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self._bar = Progress(
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.3f}  acc {task.fields[accuracy]:6.1%}"),
            TextColumn("{task.fields[speed]:.0f} img/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not enabled,
        )
        self._task = None

    def __enter__(self) -> TrainingProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._bar.stop()

    def start_epoch(self, epoch: int, epochs: int, steps: int) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task(
            "train", total=steps, epoch=f"{epoch + 1}/{epochs}", loss=float("nan"), accuracy=0.0, speed=0.0
        )

    def advance(self, loss: float, accuracy: float, images_per_second: float) -> None:
        self._bar.update(self._task, advance=1, loss=loss, accuracy=accuracy, speed=images_per_second)

    def end_epoch(self, result: dict) -> None:
        if self.enabled:
            self.console.print(
                f"epoch {result['epoch']}: train loss {result['train_loss']:.4f} acc {result['train_accuracy']:.1%}"
                f" | test loss {result['test_loss']:.4f} acc {result['test_accuracy']:.1%}"
                f" | {result['images_per_second']:.0f} img/s"
            )
