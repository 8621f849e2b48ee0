"""Stacked MNIST (Metz et al. 2017; Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN): three MNIST
digits stacked as the R, G and B channels of one image, so the data has 10^3 = 1000 modes.

A sample's label is its mode ``100 * d_R + 10 * d_G + d_B``. Mode-collapse papers count how many of the
1000 modes a generator's samples cover (each channel classified by a pretrained MNIST classifier) and the
KL divergence of the mode histogram to uniform (:func:`advkit.gan.metrics.modes.stacked_mnist_modes`).

    >>> data = stacked_mnist(load_mnist("train"), n=25600, seed=0)   # images [25600, 3, 28, 28] in [0, 1]
"""

from __future__ import annotations

import torch

from advkit.data.tensors import TensorData, resize_images


PACGAN_TRIPLES = 25_600  # the training set size of PacGAN's Stacked MNIST (Lin et al. 2018, Table 2)


def stacked_mode(digits: torch.Tensor) -> torch.Tensor:
    """The mode of stacked digits ``[N, 3]`` (R, G, B): ``100 * d_R + 10 * d_G + d_B``, in [0, 1000)."""
    digits = digits.long()
    return digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]


def stacked_mnist(mnist: TensorData, n: int = PACGAN_TRIPLES, seed: int = 0, image_size: int | None = None) -> TensorData:
    """``n`` stacked images, each channel an independent uniform draw from ``mnist`` (a single-channel set),
    resized to ``image_size`` px when given (antialiased, as every resized dataset in advkit)."""
    g = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(mnist), (n, 3), generator=g)
    images = mnist.images[picks.flatten(), 0].view(n, 3, *mnist.images.shape[-2:])
    if image_size and image_size != images.shape[-1]:
        images = resize_images(images, image_size)
    labels = stacked_mode(mnist.labels[picks])
    return TensorData(images.contiguous(), labels, f"stacked-mnist/{mnist.name.split('/')[-1]}",
                      f"Stacked MNIST ({n} triples drawn from the {mnist.source})", num_classes=1000)
