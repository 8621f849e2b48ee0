"""STL-10 (Coates et al. 2011) binary format: ``{split}_X.bin`` holds uint8 images of 3x96x96 stored
column-major (each channel transposed), ``{split}_y.bin`` uint8 labels 1..10.

torchvision's STL10 downloads the archive online (``advkit data fetch stl10``); this module reads the
binary files it leaves in ``data/stl10_binary`` (also the ``unlabeled_X.bin`` split, 100k images).

    >>> images = read_stl10_images("data/stl10_binary/train_X.bin")   # uint8 tensor [5000, 3, 96, 96]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from advkit.data.paths import data_root
from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError

IMAGE_BYTES = 3 * 96 * 96


def read_stl10_images(path: str | Path, limit: int | None = None) -> torch.Tensor:
    path = Path(path)
    if not path.exists():
        raise AdvkitError(f"STL-10 file {path} is missing; run `advkit data fetch stl10` online, or train on an "
                          "image folder with --data DIR")
    size = path.stat().st_size
    if size == 0 or size % IMAGE_BYTES:
        raise AdvkitError(f"{path} is corrupt: {size} bytes is not a whole number of 3x96x96 images; re-fetch it")
    count = size // IMAGE_BYTES if limit is None else min(limit, size // IMAGE_BYTES)
    raw = np.fromfile(path, dtype=np.uint8, count=count * IMAGE_BYTES)
    # column-major on disk: (N, C, W, H) -> (N, C, H, W)
    return torch.from_numpy(raw.reshape(count, 3, 96, 96).transpose(0, 1, 3, 2).copy())


def read_stl10_labels(path: str | Path) -> torch.Tensor:
    labels = np.fromfile(Path(path), dtype=np.uint8).astype(np.int64) - 1  # stored as 1..10
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise AdvkitError(f"{path} is corrupt: STL-10 labels must be 1..10")
    return torch.from_numpy(labels)


def load_stl10(split: str = "train", limit: int | None = None, folder: Path | None = None) -> TensorData:
    folder = folder or data_root() / "stl10_binary"
    images = read_stl10_images(folder / f"{split}_X.bin", limit).float().div_(255)
    labels_path = folder / f"{split}_y.bin"
    labels = read_stl10_labels(labels_path)[: len(images)] if labels_path.exists() else torch.zeros(len(images), dtype=torch.long)
    return TensorData(images, labels, f"stl10/{split}", f"STL-10 {split} ({len(images)} images)")
