"""Rich progress that reads at 80 columns: step/total, rate and ETA on the bar's line, live figures below it.

    with training_progress(total=1000, description="GANTrainer") as bar:
        for step in range(1000):
            bar.update(step + 1)                              # every step: the bar and ETA move
            bar.update(step + 1, d_loss=0.69, g_loss=0.71)    # on log steps: the figures line too

Both refresh several times a second; ``quiet`` silences them (errors and results still print).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeRemainingColumn)
from rich.text import Text

console = Console(stderr=True)  # progress bars and warnings
stdout = Console()  # messages and results


def _columns():
    # Widest first line: "GANTrainer ━━━━━━━━━━━━━━━━━━━━ 12000/12000 100% 23.1 it/s eta 0:00:00" (< 80 columns).
    return (TextColumn("[bold]{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TextColumn("eta"), TimeRemainingColumn())


class _Bar:
    def __init__(self, progress: Progress | None, task, figures: Text | None):
        self._progress, self._task, self._figures = progress, task, figures

    def update(self, completed: int, **figures: float) -> None:
        if self._progress is None:
            return
        task = self._progress.tasks[self._task]
        speed = task.finished_speed or task.speed
        self._progress.update(self._task, completed=completed, rate=f"{speed:.3g} it/s" if speed else "")
        if figures:
            self._figures.plain = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                            for k, v in figures.items())


@contextmanager
def training_progress(total: int, description: str = "train", quiet: bool = False, completed: int = 0) -> Iterator[_Bar]:
    """A progress bar (step/total, %, rate, ETA) with a line of live figures (losses, accuracies) under it."""
    if quiet:
        yield _Bar(None, None, None)
        return
    progress = Progress(*_columns(), console=console)
    figures = Text("", overflow="fold")
    task = progress.add_task(description, total=total, completed=completed, rate="")
    with Live(Group(progress, figures), console=console, refresh_per_second=4, transient=False):
        yield _Bar(progress, task, figures)


def track(iterable, total: int | None = None, description: str = "working", quiet: bool = False):
    """Iterate with a progress bar (evaluation loops, attacks, apply): step/total, rate, ETA."""
    if quiet:
        yield from iterable
        return
    with Progress(*_columns(), console=console) as progress:
        task = progress.add_task(description, total=total if total is not None else len(iterable), rate="")
        for item in iterable:
            yield item
            t = progress.tasks[task]
            progress.update(task, advance=1, rate=f"{t.speed:.3g} it/s" if t.speed else "")
