"""Wide residual network (Zagoruyko & Komodakis 2016, "Wide Residual Networks"), pre-activation blocks, in the exact
module layout of RobustBench's ``model_zoo/architectures/wide_resnet.py`` (from TRADES; MIT), so RobustBench
checkpoints load into it with ``load_state_dict(strict=True)``: RobustBench's ``Standard`` CIFAR-10 model is
``WideResNet(WideResNetConfig(depth=28, widen_factor=10))``.

Shapes: ``x`` ``[B, 3, 32, 32]`` in the model's input space (RobustBench's CIFAR models take [0, 1] images, no
normalization) -> logits ``[B, num_classes]``.

    >>> net = WideResNet(WideResNetConfig(depth=28, widen_factor=10))      # 36.5M parameters
    >>> net(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class WideResNetConfig:
    depth: int = 28  # 6n + 4
    widen_factor: int = 10
    num_classes: int = 10
    sub_block1: bool = False  # a second first-stage block, unused in forward (present in some checkpoints)


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, out_planes: int, stride: int):
        super().__init__()
        self.bn1, self.relu1 = nn.BatchNorm2d(in_planes), nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2, self.relu2 = nn.BatchNorm2d(out_planes), nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.equalInOut = in_planes == out_planes  # noqa: N815 - the checkpoints' names
        self.convShortcut = None if self.equalInOut else nn.Conv2d(in_planes, out_planes, 1, stride, 0, bias=False)  # noqa: N815

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.relu1(self.bn1(x))
        out = self.conv2(self.relu2(self.bn2(self.conv1(pre))))
        return out + (x if self.equalInOut else self.convShortcut(pre))


class NetworkBlock(nn.Module):
    def __init__(self, layers: int, in_planes: int, out_planes: int, stride: int):
        super().__init__()
        self.layer = nn.Sequential(*[BasicBlock(in_planes if i == 0 else out_planes, out_planes, stride if i == 0 else 1)
                                     for i in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, config: WideResNetConfig):
        super().__init__()
        if (config.depth - 4) % 6:
            raise ValueError(f"WideResNet depth must be 6n + 4; got {config.depth}")
        self.config = config
        n, k = (config.depth - 4) // 6, config.widen_factor
        channels = [16, 16 * k, 32 * k, 64 * k]
        self.conv1 = nn.Conv2d(3, channels[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, channels[0], channels[1], 1)
        if config.sub_block1:
            self.sub_block1 = NetworkBlock(n, channels[0], channels[1], 1)
        self.block2 = NetworkBlock(n, channels[1], channels[2], 2)
        self.block3 = NetworkBlock(n, channels[2], channels[3], 2)
        self.bn1, self.relu = nn.BatchNorm2d(channels[3]), nn.ReLU(inplace=True)
        self.fc = nn.Linear(channels[3], config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = F.adaptive_avg_pool2d(self.relu(self.bn1(out)), 1).flatten(1)
        return self.fc(out)
