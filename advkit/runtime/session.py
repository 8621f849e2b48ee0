"""A session: what one run of a command takes from the machine: device, seed, run directory, messages, progress.

Every command's config inherits :class:`RunConfig` (``device``, ``seed``, ``deterministic``), so the seed and the
device are part of the configuration that config.json and every checkpoint store. The session turns them into a
``torch.device``, seeded generators and a run directory; commands and trainers receive it::

    >>> from advkit.runtime.session import open_session
    >>> config = GANConfig(dataset="fake", steps=2, seed=0, device="cpu")
    >>> with open_session("gan-train", config, out="runs/gan1") as session:
    ...     figures = GANTrainer(config, session).fit()

No click here: the command line (advkit/cli) only parses options into a config and calls the library.
"""

from __future__ import annotations

import dataclasses
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

if TYPE_CHECKING:  # torch is imported when a session opens, not when a config is read (fast --help)
    import torch



@dataclass
class RunConfig:
    """The options every command that computes shares; part of every command's config (and checkpoint)."""
    device: str = field(default="auto", metadata={"help": "auto | cpu | cuda | cuda:N"})
    seed: int = field(default=0, metadata={"help": "Seed for python, numpy and torch."})
    deterministic: bool = field(default=False, metadata={
        "help": "Deterministic kernels (bit-identical reruns; slower on CUDA)."})
    threads: int = field(default=0, metadata={
        "help": "CPU threads (0 = auto: one for trainers of small models, where threads wait on each other more "
                "than they compute; else torch's default; OMP_NUM_THREADS is respected)."})


@dataclass
class Session:
    """The device, seed and run directory of one command run, and where its messages and progress go."""
    device: "torch.device"
    seed: int = 0
    run: Any = None  # advkit.runtime.rundir.RunDir, or None for commands that write plain files (apply, export)
    quiet: bool = False
    dist: Any = None  # advkit.runtime.distributed.DistContext under torchrun (None: one process)
    overwrite: bool = False  # commands writing plain files into their own --out: write over a used one
    created_run_dir: bool = field(default=False, repr=False)

    @property
    def is_main(self) -> bool:
        """Under torchrun one process speaks (rank 0)."""
        return self.dist is None or self.dist.is_main

    @property
    def speaks(self) -> bool:
        """Whether progress bars show: on the main process, unless ``quiet``."""
        return not self.quiet and self.is_main

    def echo(self, message: str = "") -> None:
        """A result line for the user (stdout; shown with ``quiet`` too, which only silences progress)."""
        if self.is_main:
            from advkit.runtime.progress import stdout

            stdout.print(message, highlight=False, markup=False)

    def warn(self, message: str) -> None:
        """A warning the user should read even in a long log (stderr)."""
        if self.is_main:
            from advkit.runtime.progress import console

            console.print(f"[yellow]warning[/] {message}", highlight=False)

    def track(self, iterable: Iterable, total: int | None = None, description: str = "working",
              transient: bool = False) -> Iterator:
        """Iterate with a progress bar (step/total, rate, ETA), refreshed several times a second; ``transient``: the
        bar goes when done. Library code takes it as ``progress`` (see :mod:`advkit.runtime.progress`)."""
        from advkit.runtime.progress import track

        return track(iterable, total=total, description=description, quiet=not self.speaks, transient=transient)

    def status(self, message: str):
        """A spinner with ``message`` while a phase of unknown length runs (loading data, building models):
        ``with session.status("loading MNIST"): ...``; silent with ``quiet`` and in files."""
        from contextlib import nullcontext

        from advkit.runtime.progress import console

        return console.status(message) if self.speaks and console.is_terminal else nullcontext()

    def progress(self, total: int, description: str, completed: int = 0):
        """A training progress bar: ``with session.progress(n, "GANTrainer") as bar: bar.update(step, **figures)``."""
        from advkit.runtime.progress import training_progress

        return training_progress(total, description, not self.speaks, completed=completed)

    def close(self, leave_group: bool = True) -> None:
        """Release the run directory (its lock, TensorBoard writer) and leave the process group, if any."""
        if self.run is not None:
            self.run.close()
        if leave_group and self.dist is not None and self.dist.enabled:
            from advkit.runtime.distributed import teardown

            teardown()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Always unlock the run directory (the next run must find it free). After an error the process group is
        # left alone: a collective teardown would wait for ranks that are still training.
        self.close(leave_group=exc_type is None)
        # A command that failed before it produced anything leaves no run directory behind.
        if exc_type is not None and self.created_run_dir and self.run is not None and not _produced(self.run.path):
            shutil.rmtree(self.run.path, ignore_errors=True)


def _produced(path: Path) -> bool:
    """Whether a run directory holds anything beyond what start-up wrote (config.json, empty folders, the lock)."""
    startup = {"config.json", ".lock", "images", "checkpoints"}
    for item in path.iterdir():
        if item.name not in startup or (item.is_dir() and any(item.iterdir())):
            return True
    return False


def config_dict(config: Any) -> dict:
    """A config as plain values (what config.json and checkpoints hold)."""
    if config is None:
        return {}
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)


def open_session(command: str, config: Any = None, *, out: str | Path | None = None, quiet: bool = False,
                 resume: str | Path | None = None, overwrite: bool = False, run_dir: bool = True) -> Session:
    """Select the device, seed everything, create the run directory and write config.json.

    ``config`` is the command's config (a :class:`RunConfig`); its ``device``, ``seed`` and ``deterministic``
    are used. A non-empty ``out`` is refused unless ``resume`` (continue in it) or ``overwrite`` (empty it first),
    so two runs never mix. Use the session as a context manager so the run directory is released whatever
    happens. Under torchrun (WORLD_SIZE > 1) it joins the process group: each rank gets cuda:LOCAL_RANK (or the
    CPU), the same seed, and rank 0's run directory with writes on rank 0 only."""
    from advkit.runtime import distributed
    from advkit.runtime.device import configure_backends, select_device
    from advkit.runtime.rundir import RunDir
    from advkit.runtime.seeding import seed_everything

    device_spec = getattr(config, "device", "auto")
    seed, deterministic = int(getattr(config, "seed", 0)), bool(getattr(config, "deterministic", False))
    dist = distributed.setup(device_spec)
    device = dist.device if dist.enabled else select_device(device_spec)
    seed_everything(seed, deterministic)
    configure_backends(device, deterministic)
    threads = int(getattr(config, "threads", 0) or 0)
    if threads < 0:
        from advkit.errors import AdvkitError

        raise AdvkitError(f"--threads must be >= 0 (0 = auto); got {threads}")
    if threads:
        import torch

        torch.set_num_threads(threads)
    session = Session(device, seed, None, quiet or not dist.is_main, dist, overwrite=overwrite)
    if run_dir:
        # Resuming a run directory continues in it, so its metrics and checkpoints stay in one place.
        target = out or (resume if resume and Path(resume).is_dir() else None)
        if dist.is_main:
            existed = target is not None and Path(target).exists()
            session.run = RunDir.create(command, target, reuse=bool(resume), overwrite=overwrite)
            session.created_run_dir = not existed
        # Every rank must name the same run directory (default names carry a timestamp); only rank 0 writes.
        path = dist.broadcast_object(str(session.run.path) if dist.is_main else None)
        if not dist.is_main:
            session.run = RunDir(path, main_process=False)
        extra = {"world_size": dist.world_size, "backend": dist.backend} if dist.enabled else {}
        session.run.save_config({"command": command, **config_dict(config), "resolved_device": str(device), **extra})
    return session


@contextmanager
def session_for(command: str, config: Any, session: Session | None, **kw) -> Iterator[Session]:
    """The caller's session when given (the caller closes it), else a new one closed on exit."""
    if session is not None:
        yield session
        return
    with open_session(command, config, **kw) as new:
        yield new

