"""Geometric self-ensemble (x8): denoise the 8 flips/rotations of an image and average the answers turned back.

Lim et al. 2017 (EDSR, "self-ensemble") and Timofte et al. 2016 ("Seven ways to improve example-based
single image super resolution"): a network trained with all 8 symmetries of the square (the denoising
trainer's crops are) gives 8 slightly different estimates of the same image; their mean is better,
typically +0.1 to +0.2 dB for Gaussian denoising, at 8x the cost. Shapes: ``[B, C, H, W]`` in and out
(H and W may differ: the transposed copies are ``[B, C, W, H]``).

    >>> estimate = self_ensemble(lambda x: tiled_apply(G, x), noisy)
"""

from __future__ import annotations

from typing import Callable

import torch


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th of the 8 symmetries (k in 0..7): rotate by 90 degrees (k % 4) times, then mirror when k >= 4."""
    y = torch.rot90(x, k % 4, dims=(-2, -1))
    return y.flip(-1) if k >= 4 else y


def dihedral_inverse(y: torch.Tensor, k: int) -> torch.Tensor:
    """Undo :func:`dihedral` (mirror first, then rotate back)."""
    x = y.flip(-1) if k >= 4 else y
    return torch.rot90(x, -(k % 4), dims=(-2, -1))


def self_ensemble(denoise: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The mean of ``denoise`` over the 8 symmetries of ``x`` [B, C, H, W], each answer turned back."""
    total = None
    for k in range(8):
        y = dihedral_inverse(denoise(dihedral(x, k)), k).float()
        total = y if total is None else total + y
    return total / 8
