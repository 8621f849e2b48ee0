"""Writing a file atomically: a reader (or a resumed run) sees the previous file or the whole new one, never a part.

The content goes to a temporary file of its own in the target's folder (two writers, e.g. two torchrun ranks, never
share one), is flushed and fsync'ed, gets the permissions ``open()`` would give a new file, and is then
``os.replace``'d over the target. A crash, a kill or a full disk mid-write leaves the previous file intact and no
temporary behind. Checkpoints, shard blocks, certified points, JSON reports and figures all go through here.

    >>> with atomic_file("run/results.json", "w") as f:
    ...     json.dump(results, f)
    >>> with atomic_file("run/checkpoints/last.pt") as f:   # binary
    ...     torch.save(payload, f)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


def file_mode() -> int:
    """The permissions ``open()`` would give a new file: 0666 minus the process umask (0644 under umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """An open temporary file (``mode`` ``"wb"`` or ``"w"``) that replaces ``path`` when the block ends without an
    exception; its folder is made. On an exception the temporary is removed and ``path`` is untouched."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes a whole file: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, file_mode())  # mkstemp's owner-only 0600 would outlive the rename
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
