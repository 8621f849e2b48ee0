"""Rich progress that reads at 80 columns: step/total, rate and ETA on the bar's line, live figures below it.

    with training_progress(total=1000, description="GANTrainer") as bar:
        for step in range(1000):
            bar.update(step + 1)                              # every step: the bar and ETA move
            bar.update(step + 1, d_loss=0.69, g_loss=0.71)    # on log steps: the figures line too

Both refresh several times a second, and a spinner turns while a long step (an AutoAttack batch, a 512-pixel tile)
runs; ``quiet`` silences them (errors and results still print). Written to a file or a pipe, a bar prints once,
when done, and always ends its line, so the next output starts on a line of its own.

Library code that loops over batches or tiles takes ``progress``, a function shaped like :func:`track`
(``progress(iterable, total, description)`` -> iterable; :meth:`advkit.runtime.session.Session.track` is one):
``for start in progress(starts, len(starts), "pgd") if progress is not None else starts``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console, Group, NewLine
from rich.live import Live
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn,
                           TimeRemainingColumn)
from rich.text import Text

console = Console(stderr=True)  # progress bars and warnings
stdout = Console()  # messages and results


def _columns():
    # Widest first line: "⠋ GANTrainer ━━━━━━━━━━━━━━━━━━━━ 12000/12000 100% 23.1 it/s eta 0:00:00" (< 80 columns).
    return (SpinnerColumn(finished_text=" "), TextColumn("[bold]{task.description}"), BarColumn(bar_width=20),
            MofNCompleteColumn(), TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TextColumn("eta"),
            TimeRemainingColumn())


def _ends_line(parts: list) -> list:
    # On a terminal rich ends the live block's line itself; written to a file it does not (the next output would
    # be glued to the last line of figures), so a file gets an explicit line end.
    return parts if console.is_terminal else [*parts, NewLine()]


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
    with Live(Group(*_ends_line([progress, figures])), console=console, refresh_per_second=4, transient=False):
        yield _Bar(progress, task, figures)


def track(iterable, total: int | None = None, description: str = "working", quiet: bool = False,
          transient: bool = False):
    """Iterate with a progress bar (evaluation loops, attacks, tiles): step/total, rate, ETA. ``transient``: the
    bar disappears when done (a phase within a phase that prints its own result line)."""
    if quiet:
        yield from iterable
        return
    progress = Progress(*_columns(), console=console, transient=transient)
    task = progress.add_task(description, total=total if total is not None else len(iterable), rate="")
    with Live(Group(*_ends_line([progress])), console=console,
              refresh_per_second=4, transient=transient):
        for item in iterable:
            yield item
            t = progress.tasks[task]
            progress.update(task, advance=1, rate=f"{t.speed:.3g} it/s" if t.speed else "")
