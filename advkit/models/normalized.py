"""Input normalization as part of the model: ``Normalized(net, mean, std)`` maps [0, 1] images to what ``net``
expects, so attacks, budgets and data stay in pixel units of [0, 1] images (every torchvision ImageNet model is
wrapped once with ``IMAGENET_MEAN`` / ``IMAGENET_STD``).

    >>> net = Normalized(torchvision.models.resnet50(weights=...), IMAGENET_MEAN, IMAGENET_STD)
    >>> logits = net(x)            # x: [B, 3, H, W] in [0, 1]
"""

from __future__ import annotations

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalized(nn.Module):
    """``model((x - mean) / std)``: the one place where input normalization happens."""

    def __init__(self, model: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self.mean) / self.std)
