"""Fashion-MNIST (Xiao et al. 2017), full 60k/10k: Debian's ``dataset-fashion-mnist`` package offline,
torchvision's loader when its files were fetched online.

    >>> train = load_fashion_mnist("train")    # TensorData [60000, 1, 28, 28]
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import torch

from advkit.data.idx import read_idx
from advkit.data.paths import data_root
from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError

_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
INSTALL_HINT = ("Fashion-MNIST is not installed; run `apt-get install dataset-fashion-mnist` (Debian) or "
                "`advkit data fetch fashion-mnist` online")


def debian_files() -> dict[str, Path]:
    """IDX files installed by Debian's dataset-fashion-mnist (found with `dpkg -L`, then the usual folders)."""
    candidates: list[Path] = []
    try:
        listing = subprocess.run(["dpkg", "-L", "dataset-fashion-mnist"], capture_output=True, text=True, timeout=10)
        candidates += [Path(line) for line in listing.stdout.splitlines() if "ubyte" in line]
    except (OSError, subprocess.SubprocessError):
        pass
    for folder in (Path("/usr/share/datasets/fashion-mnist"), Path("/usr/share/dataset-fashion-mnist")):
        if folder.is_dir():
            candidates += list(folder.rglob("*ubyte*"))
    found: dict[str, Path] = {}
    for path in candidates:
        for stem in (s for pair in _FILES.values() for s in pair):
            if path.name.startswith(stem) and path.is_file():
                found.setdefault(stem, path)
    return found


def load_fashion_mnist(split: str = "train") -> TensorData:
    if split not in _FILES:
        raise AdvkitError(f"Fashion-MNIST split must be train or test; got {split!r}")
    from torchvision.datasets import FashionMNIST

    try:
        ds = FashionMNIST(str(data_root()), train=(split == "train"), download=False)
        return TensorData(ds.data.unsqueeze(1).float().div_(255), ds.targets.long(), f"fashion-mnist/{split}",
                          "full Fashion-MNIST (torchvision files)")
    except RuntimeError:
        pass
    files = debian_files()
    image_stem, label_stem = _FILES[split]
    if image_stem not in files or label_stem not in files:
        raise AdvkitError(INSTALL_HINT)
    images, labels = read_idx(files[image_stem]), read_idx(files[label_stem])
    return TensorData(torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255),
                      torch.from_numpy(labels.astype(np.int64)), f"fashion-mnist/{split}",
                      "full Fashion-MNIST (Debian dataset-fashion-mnist)")
