"""DiffAugment (Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

A discriminator trained on a few thousand images memorizes them: D(x) -> 1 on the training set, and G gets
gradients that say "be one of these images" instead of "look like this data". DiffAugment applies the same
random, differentiable augmentation T to *every* image D sees, real and generated, in both D's and G's phase:

    L_D = f(D(T(x)), D(T(G(z))))        L_G = g(D(T(G(z))))

so D cannot tell data from augmentation artefacts, and G's gradient flows back through T. The three policies
of the paper (its ``DiffAugment_pytorch.py``), on image batches ``[B, C, H, W]`` in any value range:

* ``color``: brightness + U[-0.5, 0.5); saturation x U[0, 2) about the pixel's channel mean; contrast
  x U[0.5, 1.5) about the image mean. (Mixes channels: not for Stacked MNIST, where a channel is a digit.)
* ``translation``: shift by up to 1/8 of the size in each direction, zeros shifted in.
* ``cutout``: zero a square of half the size at a random centre.

Every random draw comes from the caller's ``torch.Generator`` (CPU, so the trainer's checkpointed generator
makes resumed runs exact) and is copied to the images' device.

    >>> policy = parse_policy("translation,cutout")
    >>> augmented = diff_augment(images, policy, generator)     # same shape, differentiable in images
"""

from __future__ import annotations

import torch


TRANSLATION_RATIO = 0.125  # the paper's defaults
CUTOUT_RATIO = 0.5


def _uniform(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, generator=generator).to(device=like.device, dtype=like.dtype, non_blocking=True)


def _randint(low: int, high: int, n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``n`` integers in [low, high), drawn on the CPU."""
    return torch.randint(low, high, (n,), generator=generator).to(device, non_blocking=True)


def color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    b = x.shape[0]
    x = x + (_uniform((b, 1, 1, 1), generator, x) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform((b, 1, 1, 1), generator, x) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform((b, 1, 1, 1), generator, x) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator, ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    _, _, h, w = x.shape
    return shift(x, int(h * ratio + 0.5), int(w * ratio + 0.5), generator)


def shift(x: torch.Tensor, max_dy: int, max_dx: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by its own integer offset in [-max_dy, max_dy] x [-max_dx, max_dx], zeros shifted in."""
    b, _, h, w = x.shape
    dy = _randint(-max_dy, max_dy + 1, b, generator, x.device)
    dx = _randint(-max_dx, max_dx + 1, b, generator, x.device)
    # Output pixel (i, j) reads input pixel (i + dy, j + dx); reads from outside the image give 0.
    rows = torch.arange(h, device=x.device)[None] + dy[:, None]  # [B, H]
    cols = torch.arange(w, device=x.device)[None] + dx[:, None]  # [B, W]
    inside = (((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :])  # [B, H, W]
    batch = torch.arange(b, device=x.device)[:, None, None]
    # Advanced indices split by a slice put their [B, H, W] first: the gather is [B, H, W, C].
    moved = x[batch, :, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]]
    return (moved * inside[..., None].to(x.dtype)).permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, generator: torch.Generator, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    b, _, h, w = x.shape
    size_y, size_x = int(h * ratio + 0.5), int(w * ratio + 0.5)
    # Centres as in the paper (offset - size // 2); the square is clipped at the border.
    top = _randint(0, h + (1 - size_y % 2), b, generator, x.device) - size_y // 2
    left = _randint(0, w + (1 - size_x % 2), b, generator, x.device) - size_x // 2
    rows = torch.arange(h, device=x.device)[None] - top[:, None]  # [B, H], in the square when in [0, size)
    cols = torch.arange(w, device=x.device)[None] - left[:, None]
    hole = ((rows >= 0) & (rows < size_y))[:, :, None] & ((cols >= 0) & (cols < size_x))[:, None, :]
    return x * (~hole)[:, None].to(x.dtype)


AUGMENTATIONS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Apply the policies in order (each with fresh draws per image); ``()`` returns ``x`` unchanged."""
    for name in policy:
        x = AUGMENTATIONS[name](x, generator)
    return x
