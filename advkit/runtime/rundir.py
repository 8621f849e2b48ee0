"""A run directory per command: everything a run produces, in one place.

    runs/<command>-<timestamp>/          (or --out DIR)
      config.json      every resolved option
      metrics.jsonl    one JSON object per logged step
      events.out.tfevents.*  TensorBoard scalars, histograms, images
      images/          sample grids and figures
      checkpoints/     step-<8-digit step>.pt (+ best.pt)
      .lock            held while a process writes here: a second run on the same directory is refused

A run never mixes with another: a non-empty ``--out`` is refused unless the run resumes in it (``reuse``) or asks
to ``overwrite`` it (emptied first).

    >>> run = RunDir.create("gan-train", out=None)
    >>> run.save_config({"lr": 2e-4}); run.log(10, loss=0.7)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from advkit.errors import AdvkitError


class RunDir:
    def __init__(self, path: str | os.PathLike, main_process: bool = True, lock: bool = True):
        self.path = Path(path)
        # Under DDP only rank 0 writes; the other ranks get a RunDir whose writes are no-ops.
        self.main_process = main_process
        self._writer = None
        self._lock_file = None
        if main_process:
            ensure_writable(self.path, "run directory")
            # checkpoints/ is made by the first checkpoint written (save_checkpoint), so runs that write none
            # (fgsm, gan sample, eval) carry no empty folder
            (self.path / "images").mkdir(parents=True, exist_ok=True)
            if lock:
                self._acquire_lock()

    @classmethod
    def create(cls, command: str, out: str | os.PathLike | None = None, root: str = "runs", reuse: bool = False,
               overwrite: bool = False, **kw) -> "RunDir":
        """``out`` if given, else ``runs/<command>-<YYYYmmdd-HHMMSS>`` (a suffix keeps same-second runs apart).

        A non-empty ``out`` is refused unless ``reuse`` (resume in it) or ``overwrite`` (empty it first)."""
        if out:
            out = Path(out)
            if out.is_dir() and any(out.iterdir()) and not reuse:
                if (out / ".lock").exists():
                    cls(out).close()  # refuses (one line) when another process is writing there
                if not overwrite:
                    raise AdvkitError(f"--out {out} already holds a run; pass --resume {out} to continue it, "
                                      "--overwrite to replace it, or another --out")
                shutil.rmtree(out)
            return cls(out, **kw)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(root) / f"{command.replace(' ', '-')}-{stamp}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        return cls(path, **kw)

    def _acquire_lock(self) -> None:
        self._lock_file = open(self.path / ".lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise AdvkitError(f"run directory {self.path} is in use by another advkit process; "
                              "wait for it to finish or pass another --out") from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()

    @property
    def images(self) -> Path:
        return self.path / "images"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def writer(self):
        """The TensorBoard SummaryWriter (created on first use: importing tensorboard costs a second)."""
        if self._writer is None and self.main_process:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.path))
        return self._writer

    def save_config(self, config: dict[str, Any]) -> None:
        if self.main_process:
            write_json(self.path / "config.json", config)

    def log(self, step: int, **scalars: float) -> None:
        """Append a metrics line and mirror every scalar to TensorBoard."""
        if not self.main_process:
            return
        clean = {k: (float(v) if isinstance(v, (int, float)) or hasattr(v, "item") else v) for k, v in scalars.items()}
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write(json.dumps({"step": int(step), **clean}) + "\n")
        for name, value in clean.items():
            if isinstance(value, float) and math.isfinite(value):
                self.writer.add_scalar(name, value, step)

    def save_json(self, name: str, data: Any) -> Path:
        path = self.path / name
        if self.main_process:
            write_json(path, data)
        return path

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> "RunDir":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def ensure_writable(folder: str | os.PathLike, what: str = "--out") -> Path:
    """Create ``folder`` if needed and check that files can be written there (one-line error otherwise)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise AdvkitError(f"cannot write to {what} {folder} ({e.strerror}); pass a writable --out folder") from None
    return folder


@contextmanager
def files_folder(folder: str | os.PathLike, overwrite: bool = False, what: str = "--out") -> Iterator[Path]:
    """The folder a command writes plain files into (``denoise apply``, ``denoise export``), made if needed: a
    used one is refused unless ``overwrite`` (then files of the same names are replaced, others kept). If the
    command fails, the files it added are removed again, and the folder too when it made it."""
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise AdvkitError(f"{what} {folder} already holds files; pass --overwrite to write over them, or another "
                          f"{what}")
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    before = set(folder.iterdir()) if folder.is_dir() else set()
    ensure_writable(folder, what)
    try:
        yield folder
    except BaseException:
        for path in set(folder.iterdir()) - before:
            if path.is_file():
                path.unlink(missing_ok=True)
        for path in created:  # innermost first; only if still empty
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write JSON atomically (:mod:`advkit.runtime.atomic`), so a crash never leaves half a file."""
    from advkit.runtime.atomic import atomic_file

    text = json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n"
    with atomic_file(path, "w") as f:
        f.write(text)


def plain(data: Any) -> Any:
    """``data`` as JSON would store it (tensors and numpy scalars as numbers, paths as text)."""
    return json.loads(json.dumps(data, default=_jsonable))


def _jsonable(value: Any) -> Any:
    # Tensors and numpy scalars become numbers; anything else (paths, dtypes, devices) its text.
    return value.item() if hasattr(value, "item") else str(value)


def read_config(run: str | os.PathLike) -> dict[str, Any]:
    """The options a run directory's config.json stored (``--resume RUN`` of a resumable evaluation)."""
    path = Path(run) / "config.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        raise AdvkitError(f"--resume {run}: no readable config.json there; pass the run directory of an earlier "
                          "run of this command") from None
