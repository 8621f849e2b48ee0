"""A ``fake`` dataset for two-step smoke runs (as pytorch/examples' dcgan ``--dataset fake``): random images
and labels of the requested shape, drawn from a seeded generator so smoke runs repeat.

    >>> data = fake_dataset(64, (1, 28, 28))
"""

from __future__ import annotations

import torch

from advkit.data.tensors import TensorData


def fake_dataset(n: int = 256, shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = 10, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand((n, *shape), generator=g)
    labels = torch.randint(num_classes, (n,), generator=g)
    return TensorData(images, labels, "fake", "fake random data (smoke test)", num_classes)
