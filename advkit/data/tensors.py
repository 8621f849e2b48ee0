"""A whole small dataset held as one tensor pair: the fast path for MNIST-sized data.

Holding MNIST as one ``[N, 1, 28, 28]`` tensor (on the GPU when there is one) removes the DataLoader
and PIL decoding from the training loop; a batch is one index operation.

    >>> data = load_dataset("mnist", split="train")
    >>> for x, y in data.batches(128, shuffle=True, generator=torch.Generator().manual_seed(0)):
    ...     ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from advkit.runtime.amp import choose_placement
from advkit.runtime.device import to_device


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, H, W] images in [0, 1] resized to ``size`` px, antialiased (every resized dataset in advkit)."""
    from torchvision.transforms.v2.functional import resize

    return resize(images, [size, size], antialias=True).clamp_(0, 1)


def resized(data: "TensorData", size: int | None) -> "TensorData":
    """``data`` at ``size`` px (unchanged when None or already that size), its source saying so."""
    if size is None or data.images.shape[-1] == size:
        return data
    return TensorData(resize_images(data.images, size), data.labels, data.name,
                      f"{data.source}, resized to {size}px", data.num_classes)


@dataclass
class TensorData:
    images: torch.Tensor  # float32 [N, C, H, W] in [0, 1]
    labels: torch.Tensor  # int64 [N] (zeros when the data has no labels)
    name: str  # e.g. "mnist/train"
    source: str  # what a reported number used, e.g. "offline 5k MNIST training subset"
    num_classes: int = 10

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: torch.device | str) -> "TensorData":
        return TensorData(self.images.to(device), self.labels.to(device), self.name, self.source, self.num_classes)

    def subset(self, n: int) -> "TensorData":
        return TensorData(self.images[:n], self.labels[:n], self.name, self.source, self.num_classes)

    def batches(self, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None,
                drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of (images, labels) batches; the permutation is drawn on the CPU so it is device-independent."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        order = order.to(self.images.device)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            yield self.images[idx], self.labels[idx]

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch drawn uniformly with replacement (for step-based GAN training)."""
        idx = torch.randint(len(self), (batch_size,), generator=generator)
        idx = to_device(idx, self.images.device)  # pinned, non-blocking: the host does not wait for the GPU
        return self.images[idx], self.labels[idx]


TRAIN_SUBSET_SEED = 0  # the same training subset for every --seed: seeds vary the training, not the data


def training_subset(total: int, train_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept, held out): indices into a training split of ``total`` images for a training run on ``train_size`` of
    them (``advtrain --train-size``). The split is a seeded shuffle (the offline MNIST subset is sorted by class, so
    a plain prefix would drop whole classes): its first ``train_size`` images train, the rest are the held-out
    validation split (``--data mnist:heldout:N``), never seen in training. ``train_size`` 0 (or >= total) keeps all."""
    if not 0 < train_size < total:
        return torch.arange(total), torch.arange(0)
    order = torch.randperm(total, generator=torch.Generator().manual_seed(TRAIN_SUBSET_SEED))
    return order[:train_size], order[train_size:]


def place_dataset(data: TensorData, device: torch.device | str, fraction: float = 0.25) -> TensorData:
    """``data`` on the GPU when small (``TensorData.to(device)``), pinned on the host when large, unchanged
    on the CPU. Rebind the result (``data = place_dataset(data, device)``) so one copy stays alive."""
    device = torch.device(device)
    nbytes = data.images.nbytes + data.labels.nbytes
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None
    where = choose_placement(nbytes, device.type, free, fraction)
    if where == "device":
        return data.to(device)
    if where == "pinned":
        return TensorData(data.images.pin_memory(), data.labels.pin_memory(), data.name, data.source,
                          data.num_classes)
    return data
