"""Where data lives: the project's vendored ``data/`` folder and the shared real-data folder.

``ADVKIT_DATA`` overrides the vendored folder, ``ADVKIT_SHARED_DATA`` the shared one (``../shared/data``
beside a clone).
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """The project's ``data/`` (vendored offline MNIST); torchvision downloads land here too."""
    if os.environ.get("ADVKIT_DATA"):
        return Path(os.environ["ADVKIT_DATA"])
    for candidate in (_REPO / "data", Path.cwd() / "data"):
        if (candidate / "mnist").is_dir():
            return candidate
    return Path.cwd() / "data"


def shared_data_root() -> Path | None:
    """``../shared/data`` beside the clone (real test sets for tests and benchmarks), or None."""
    if os.environ.get("ADVKIT_SHARED_DATA"):
        return Path(os.environ["ADVKIT_SHARED_DATA"])
    for candidate in (_REPO.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


def assets_root() -> Path:
    """Files shipped inside the package (default models, sample images)."""
    return Path(__file__).resolve().parents[1] / "assets"
