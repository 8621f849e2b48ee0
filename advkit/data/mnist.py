"""MNIST (LeCun et al. 1998): the full set through torchvision when it is on disk, else the vendored offline files.

Offline (no network here), the project vendors real, unmodified files in ``data/mnist``:
the official 10k test set (IDX) and a 5k subset of the training set (500 per class, CSV of 784 pixels
+ label). ``advkit data fetch mnist`` downloads the full 60k/10k set with torchvision where a network
is available; from then on the full set is used. Every result says which one it used.

    >>> train = load_mnist("train")   # TensorData: images [N,1,28,28] float in [0,1], labels [N]
    >>> train.source
    'offline 5k MNIST training subset'
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from advkit.data.idx import read_idx
from advkit.data.paths import assets_root, data_root
from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError

OFFLINE_FILES = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    "train-5k.csv.gz": "1edea4bd327f562974bd5a5321bbb524",
}
FULL_SOURCE = "full MNIST (torchvision, 60k train / 10k test)"


def _full_mnist(split: str, root: Path) -> TensorData | None:
    """torchvision's MNIST if its files are present (never downloads here: that is `advkit data fetch`)."""
    from torchvision.datasets import MNIST

    try:
        ds = MNIST(str(root), train=(split == "train"), download=False)
    except RuntimeError:
        return None
    images = ds.data.unsqueeze(1).float().div_(255)
    return TensorData(images, ds.targets.long(), f"mnist/{split}", FULL_SOURCE)


def load_mnist(split: str = "train", source: str = "auto") -> TensorData:
    """``split``: train | test. ``source``: auto (full when fetched, else offline) | full | offline."""
    if split not in ("train", "test"):
        raise AdvkitError(f"MNIST split must be train or test; got {split!r}")
    root = data_root()
    if source in ("auto", "full"):
        full = _full_mnist(split, root)
        if full is not None:
            return full
        if source == "full":
            raise AdvkitError("full MNIST is not on disk; run `advkit data fetch mnist` on a machine with a network")
    # The vendored files ship in the package (advkit/assets/mnist; data/mnist in a checkout links there).
    folder = root / "mnist" if (root / "mnist").is_dir() else assets_root() / "mnist"
    if split == "test":
        images = read_idx(_need(folder / "t10k-images-idx3-ubyte.gz"))
        labels = read_idx(_need(folder / "t10k-labels-idx1-ubyte.gz"))
        if images.shape[0] != labels.shape[0]:
            raise AdvkitError(f"{folder}: {images.shape[0]} test images but {labels.shape[0]} labels; run `advkit data verify`")
        return TensorData(torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255),
                          torch.from_numpy(labels.astype(np.int64)), "mnist/test", "official 10k MNIST test set")
    rows = _read_csv(_need(folder / "train-5k.csv.gz"))
    images = torch.from_numpy(rows[:, :784].reshape(-1, 1, 28, 28)).float().div_(255)
    return TensorData(images, torch.from_numpy(rows[:, 784].astype(np.int64)), "mnist/train",
                      "offline 5k MNIST training subset")


def _need(path: Path) -> Path:
    if not path.exists():
        raise AdvkitError(f"offline MNIST file {path} is missing; restore the project's data/mnist folder "
                          "(git checkout data/) or run `advkit data fetch mnist` online")
    return path


def _read_csv(path: Path) -> np.ndarray:
    try:
        text = gzip.decompress(path.read_bytes())
        rows = np.loadtxt(text.decode().splitlines(), delimiter=",", dtype=np.int64)
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as e:
        raise AdvkitError(f"{path} is corrupt ({str(e)[:80]}); run `advkit data verify`") from None
    if rows.ndim != 2 or rows.shape[1] != 785 or rows[:, :784].min() < 0 or rows[:, :784].max() > 255:
        raise AdvkitError(f"{path} does not hold rows of 784 pixels (0-255) + a label; run `advkit data verify`")
    return rows.astype(np.uint8)
