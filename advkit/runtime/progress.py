"""Rich progress bars with ETA and live figures, silenced by ``--quiet``.

    with training_progress(total=1000, quiet=False) as bar:
        for step in range(1000):
            bar.update(step + 1, d_loss=0.69, g_loss=0.71)
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)  # progress bars and warnings
stdout = Console()  # messages and results


class _Bar:
    def __init__(self, progress: Progress | None, task):
        self._progress, self._task = progress, task

    def update(self, completed: int, **figures: float) -> None:
        if self._progress is None:
            return
        text = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        self._progress.update(self._task, completed=completed, figures=text)


@contextmanager
def training_progress(total: int, description: str = "train", quiet: bool = False, completed: int = 0) -> Iterator[_Bar]:
    """A progress bar with ETA and a free-text column of live figures (losses, accuracies)."""
    if quiet:
        yield _Bar(None, None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[figures]}"),
        console=console, transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, completed=completed, figures="")
        yield _Bar(progress, task)


def track(iterable, total: int | None = None, description: str = "working", quiet: bool = False):
    """Iterate with a progress bar (for evaluation loops)."""
    if quiet:
        yield from iterable
        return
    from rich.progress import track as rich_track

    yield from rich_track(iterable, total=total, description=description, console=console)
