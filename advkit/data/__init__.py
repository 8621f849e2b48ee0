"""The data layer: real datasets as tensors, image folders as crops, and a fake set for smoke runs.

    >>> from advkit.data import load_dataset
    >>> test = load_dataset("mnist", "test")        # TensorData, images [10000, 1, 28, 28] in [0, 1]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from advkit.errors import AdvkitError

if TYPE_CHECKING:
    from advkit.data.tensors import TensorData


def __getattr__(name: str) -> Any:
    # TensorData and fake_dataset import torch: loaded on first use, so `advkit data ...` starts without torch.
    if name == "TensorData":
        from advkit.data.tensors import TensorData

        return TensorData
    if name == "fake_dataset":
        from advkit.data.fake import fake_dataset

        return fake_dataset
    raise AttributeError(f"module 'advkit.data' has no attribute {name!r}")

DATASETS = ("mnist", "fashion-mnist", "stl10", "cifar10", "cifar100", "fake")


def load_dataset(name: str, split: str = "train", source: str = "auto", image_size: int | None = None) -> TensorData:
    """Load a named dataset as tensors. ``image_size`` resizes (e.g. 32 or 64 for DCGAN) with torchvision."""
    if name == "mnist":
        from advkit.data.mnist import load_mnist

        data = load_mnist(split, source)
    elif name == "fashion-mnist":
        from advkit.data.fashion import load_fashion_mnist

        data = load_fashion_mnist(split)
    elif name == "stl10":
        from advkit.data.stl10 import load_stl10

        data = load_stl10("unlabeled" if split == "unlabeled" else split)
    elif name in ("cifar10", "cifar100"):
        from advkit.data.cifar import load_cifar

        data = load_cifar(name, split)
    elif name == "fake":
        # A small test split drawn apart from the training one (smoke tests only).
        test = split == "test"
        from advkit.data.fake import fake_dataset

        data = fake_dataset(64 if test else 256, (1, 28, 28) if image_size in (None, 28) else (3, image_size, image_size),
                            seed=int(test))
    else:
        raise AdvkitError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} (or an image folder path where accepted)")
    from advkit.data.tensors import resized

    return resized(data, image_size)


__all__ = ["DATASETS", "TensorData", "fake_dataset", "load_dataset"]
