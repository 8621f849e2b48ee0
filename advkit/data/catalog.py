"""What data advkit knows, where each set comes from, and checksums: backs ``advkit data list|verify|fetch``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from advkit.data.paths import data_root, shared_data_root


@dataclass
class Entry:
    name: str
    what: str
    provided_by: str  # the command or package that provides it
    files: dict[str, str]  # relative path -> md5 ("" when not pinned)
    root: str = "data"  # "data" (vendored/fetched), "shared" (../shared/data) or "debian" (absolute system paths)

    def folder(self) -> Path | None:
        if self.root == "shared":
            return shared_data_root()
        if self.root == "debian":
            return Path("/")
        return data_root()


def catalog() -> list[Entry]:
    from advkit.data.fashion import debian_files
    from advkit.data.mnist import OFFLINE_FILES

    fashion = {str(p).lstrip("/"): "" for p in debian_files().values()}
    return [
        Entry("mnist-offline", "official 10k MNIST test set + 5k training subset (vendored)", "git checkout data/",
              {f"mnist/{k}": v for k, v in OFFLINE_FILES.items()}),
        Entry("mnist-full", "full MNIST 60k/10k", "advkit data fetch mnist (online)",
              {f"MNIST/raw/{f}": "" for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}),
        Entry("fashion-mnist", "full Fashion-MNIST 60k/10k", "apt-get install dataset-fashion-mnist", fashion or
              {"usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz": ""}, root="debian"),
        Entry("stl10", "STL-10 96x96 colour", "advkit data fetch stl10 (online)",
              {f"stl10_binary/{f}": "" for f in ("train_X.bin", "train_y.bin", "test_X.bin", "unlabeled_X.bin")}),
        Entry("denoise-sets", "CBSD432 (train), CBSD68, Kodak24, McMaster (test)", "../shared/data beside the clone",
              {f"denoise/{s}": "" for s in ("CBSD432", "CBSD68", "Kodak24", "McMaster")}, root="shared"),
    ]


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check(entry: Entry) -> list[tuple[str, str]]:
    """(file, status) per file: ok | missing | checksum mismatch."""
    folder = entry.folder()
    results = []
    for rel, expected in entry.files.items():
        path = folder / rel if folder else None
        if path is None or not path.exists():
            results.append((rel, "missing"))
        elif expected and path.is_file() and md5(path) != expected:
            results.append((rel, "checksum mismatch"))
        else:
            results.append((rel, "ok"))
    return results
