"""Median smoothing, a feature-squeezing defence (Xu, Evans & Qi 2018): each pixel becomes the median of its
``kernel x kernel`` window (reflect padding at the border), per channel. It removes salt-and-pepper-like
perturbations. Autograd gives a gradient (to the one pixel that is each window's median), sparse and
misleading, so it is marked non-differentiable: evaluations attack it with BPDA (identity backward).

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``x'`` like ``x``, in [0, 1].

    >>> model = Defended(classifier, MedianFilter(kernel=3))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advkit.errors import AdvkitError


class MedianFilter(nn.Module):
    differentiable, randomized = False, False

    def __init__(self, kernel: int = 3):
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise AdvkitError(f"the median filter's kernel must be an odd size >= 1 (3, 5, ...); got {kernel}")
        self.kernel = kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        k, pad = self.kernel, self.kernel // 2
        padded = F.pad(x, (pad,) * 4, mode="reflect" if min(h, w) > pad else "replicate")
        windows = F.unfold(padded.reshape(b * c, 1, h + 2 * pad, w + 2 * pad), k)  # [B*C, k*k, H*W]
        return windows.median(dim=1).values.reshape(b, c, h, w)
