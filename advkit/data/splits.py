"""Disjoint training data for a GAN and for the domain classifier that judges it.

Domain FID / KID / precision-recall use the features of a classifier trained by advkit
(advkit.gan.metrics.domain). If that classifier was trained on the GAN's own training images, its features
are tuned to exactly those images, and a generator that memorises them looks better than one that
generalises. So the training set is split once, for good: a *classifier* part that only the domain
classifier trains on, and a *GAN* part, the rest, that GAN trainers use.

The split is decided by each image's content, not its position: an image belongs to the classifier part
when a keyed hash (BLAKE2b, key = ``seed``) of its 8-bit pixels falls below ``share``. The same image
therefore lands on the same side whatever file or order it comes from: the offline 5k MNIST subset and the
full 60k set (which contains it) agree, so a GAN trained on full MNIST still excludes every image the
shipped classifier saw. The parts are disjoint and cover the set; each class gets ~``share`` of its images
(a hash is as good as a random draw; duplicated images stay together).

Compute the split on the native 28 px images (``load_dataset(name, "train")`` without ``image_size``) and
index resized copies with it: resizing keeps the order, but not the pixels the hash reads.

    >>> train = load_dataset("mnist", "train")
    >>> gan_data = take(train, gan_training_split(train), "GAN part")          # what a GAN trainer uses
    >>> clf_data = take(train, classifier_split(train), "classifier part")     # what the domain classifier uses
    >>> reference, heldout = reference_and_heldout(load_dataset("mnist", "test"), n=5000)  # for the metrics
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError

CLASSIFIER_SHARE = 0.2  # of the training images reserved for the domain classifier (the shipped assets use it)
SPLIT_SEED = 0


def content_keys(images: torch.Tensor, seed: int = SPLIT_SEED) -> torch.Tensor:
    """A number in [0, 1) per image ``[N, 1, 28, 28]`` in [0, 1], from a keyed hash of its 8-bit pixels."""
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        raise AdvkitError(f"the classifier / GAN split reads native 28 px single-channel images [N, 1, 28, 28]; got "
                          f"{tuple(images.shape)} (split the data before resizing and index the resized copy)")
    pixels = (images.detach().cpu().float() * 255).round().clamp(0, 255).to(torch.uint8).reshape(len(images), -1)
    key = seed.to_bytes(8, "little", signed=True)
    digests = [hashlib.blake2b(row.tobytes(), digest_size=8, key=key).digest() for row in pixels.numpy()]
    values = np.frombuffer(b"".join(digests), dtype="<u8") if digests else np.zeros(0, dtype="<u8")
    return torch.from_numpy((values >> np.uint64(11)).astype(np.float64) / 2.0 ** 53)  # top 53 bits: exact float64


def _check_share(share: float) -> None:
    if not 0 < share < 1:
        raise AdvkitError(f"the classifier share must lie strictly between 0 and 1; got {share}")


def classifier_split(data: TensorData, share: float = CLASSIFIER_SHARE, seed: int = SPLIT_SEED) -> torch.Tensor:
    """Indices (sorted, int64) of the images reserved for the domain classifier: no GAN trains on them."""
    _check_share(share)
    return torch.nonzero(content_keys(data.images, seed) < share).flatten()


def gan_training_split(data: TensorData, share: float = CLASSIFIER_SHARE, seed: int = SPLIT_SEED) -> torch.Tensor:
    """Indices (sorted, int64) of the images a GAN may train on: the complement of ``classifier_split``."""
    _check_share(share)
    return torch.nonzero(content_keys(data.images, seed) >= share).flatten()


def reference_and_heldout(data: TensorData, n: int, seed: int = 0,
                          reference_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint index sets of a test set for ``gan_metric_report``: a held-out split of ``n`` random images
    (the real "floor", as many as generated samples) and the reference, all the others, or ``reference_size`` of
    them drawn at random (precision / recall / density / coverage assume sets of equal size, Naeem et al.).
    Random, not the first n: files may be sorted by class (the offline 5k MNIST subset is)."""
    if not 0 < n < len(data):
        raise AdvkitError(f"the held-out real split needs 0 < n < {len(data)} images (the rest is the reference); "
                          f"got n={n} (lower --n)")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    reference = order[n:].sort().values
    if reference_size is not None:
        reference = reference[torch.randperm(len(reference), generator=torch.Generator().manual_seed(seed + 1))
                              [:reference_size]]
    return reference, order[:n].sort().values


def take(data: TensorData, indices: torch.Tensor, part: str) -> TensorData:
    """The rows ``indices`` of ``data``, its source saying which part and how many (for reports)."""
    idx = indices.to(data.images.device)
    return TensorData(data.images[idx], data.labels[idx], data.name,
                      f"{data.source}, {part} ({len(indices)} of {len(data)})", data.num_classes)
