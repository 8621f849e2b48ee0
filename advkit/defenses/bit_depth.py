"""Bit-depth reduction, a feature-squeezing defence (Xu, Evans & Qi 2018, "Feature squeezing: detecting
adversarial examples in deep neural networks"): each pixel is rounded to ``2**bits`` levels, erasing
perturbations smaller than half a level. One bit on MNIST is a threshold at 0.5. Broken by BPDA with the
identity backward (Athalye et al. 2018): rounding has zero gradient almost everywhere, which is why it *looks*
robust to gradient attacks run through it.

    x' = round(x * (2**bits - 1)) / (2**bits - 1)

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``x'`` like ``x``, in [0, 1].

    >>> model = Defended(classifier, BitDepth(bits=1))
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.errors import AdvkitError


class BitDepth(nn.Module):
    differentiable, randomized = False, False

    def __init__(self, bits: int = 4):
        super().__init__()
        if not 1 <= bits <= 16:
            raise AdvkitError(f"bit depth must be an integer from 1 to 16; got {bits}")
        self.bits, self.levels = bits, 2 ** bits - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x.clamp(0, 1) * self.levels) / self.levels
