"""Toy GAN data: the 1-D Gaussian of Goodfellow et al. 2014 (fig. 1) and the 2-D ring of 8 Gaussians
(Metz et al. 2017, "Unrolled GANs"; the standard mode-collapse test).

* ``gaussian1d``: x ~ N(mean, std^2), shape ``[B, 1]``.
* ``ring``: a mixture of 8 equal Gaussians with std ``std`` (0.02) whose centres sit evenly on a circle of
  radius 2; shape ``[B, 2]``; the label of a sample is its mode (0..7).

Samples are drawn from a CPU ``torch.Generator`` so runs repeat and resume exactly.

    >>> ring = Ring()
    >>> x, mode = ring.sample(512, torch.Generator().manual_seed(0))     # [512, 2], [512]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class Gaussian1D:
    mean: float = 4.0
    std: float = 0.5
    num_classes: int = 0
    name: str = "gaussian1d"
    source: str = "toy 1-D Gaussian N(4, 0.5^2)"

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.mean + self.std * torch.randn((n, 1), generator=generator)
        return x, torch.zeros(n, dtype=torch.long)

    def density(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(-0.5 * ((x - self.mean) / self.std) ** 2) / (self.std * math.sqrt(2 * math.pi))


@dataclass
class Ring:
    modes: int = 8
    radius: float = 2.0
    std: float = 0.02
    num_classes: int = 0
    name: str = "ring"
    source: str = "toy ring of 8 Gaussians (radius 2, std 0.02)"

    @property
    def centers(self) -> torch.Tensor:
        angles = torch.arange(self.modes, dtype=torch.float64) * (2 * math.pi / self.modes)
        return (self.radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mode = torch.randint(self.modes, (n,), generator=generator)
        x = self.centers[mode] + self.std * torch.randn((n, 2), generator=generator)
        return x, mode


TOY_DATASETS = {"gaussian1d": Gaussian1D, "ring": Ring}
