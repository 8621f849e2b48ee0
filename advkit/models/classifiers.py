"""MNIST classifiers for the adversarial-examples experiments (Goodfellow, Shlens & Szegedy 2015).

All take images in [0, 1] of shape ``[B, 1, 28, 28]`` (or ``[B, 784]``) and return logits ``[B, num_classes]``;
normalization, if a model wants any, lives in :class:`advkit.attacks.base.Normalized`, never here.

* ``softmax``: softmax (multinomial logistic) regression, the paper's "linear model" (section 5).
* ``mlp``: two ReLU hidden layers.
* ``maxout``: two dense maxout layers (Goodfellow et al. 2013), the paper's MNIST model (section 6).
* ``cnn``: a small LeNet-style convolutional network (the shipped default of ``advkit fgsm``).
* ``madry``: the MNIST CNN of Madry et al. 2018 (conv32-5x5, pool, conv64-5x5, pool, fc1024, fc10), 3.3M weights.

    >>> net = build_model("maxout", {"units": 240, "pieces": 5})
    >>> net(torch.rand(8, 1, 28, 28)).shape
    torch.Size([8, 10])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.models.names import CLASSIFIER_ARCHS as ARCHS
from advkit.models.registry import register_model


def _check(name: str, value: int) -> None:
    if not isinstance(value, int) or value <= 0:
        raise AdvkitError(f"classifier {name} must be a positive integer; got {value}")


@dataclass
class SoftmaxConfig:
    in_features: int = field(default=784, metadata={"help": "Input pixels (28*28 for MNIST)."})
    num_classes: int = field(default=10, metadata={"help": "Number of classes."})


@register_model("softmax", SoftmaxConfig)
class SoftmaxRegression(nn.Module):
    """logits = W x + b: one weight template per class (``weight[k]`` reshaped to 28x28 shows it)."""

    def __init__(self, config: SoftmaxConfig):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.in_features, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


@dataclass
class MLPConfig:
    in_features: int = 784
    hidden: int = field(default=512, metadata={"help": "Units per hidden layer (two layers)."})
    num_classes: int = 10
    dropout: float = 0.0

    def __post_init__(self) -> None:
        _check("hidden", self.hidden)


@register_model("mlp", MLPConfig)
class MLP(nn.Module):
    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        h = config.hidden
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(config.in_features, h), nn.ReLU(), nn.Dropout(config.dropout),
                                 nn.Linear(h, h), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(h, config.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Maxout(nn.Module):
    """A dense maxout layer: ``units`` outputs, each the max over ``pieces`` affine functions of the input."""

    def __init__(self, in_features: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=2)


@dataclass
class MaxoutConfig:
    in_features: int = 784
    units: int = field(default=240, metadata={"help": "Maxout units per layer (the paper's big model: 1600)."})
    pieces: int = field(default=5, metadata={"help": "Linear pieces per maxout unit."})
    num_classes: int = 10
    dropout: float = 0.0

    def __post_init__(self) -> None:
        _check("units", self.units)
        _check("pieces", self.pieces)


@register_model("maxout", MaxoutConfig)
class MaxoutNetwork(nn.Module):
    """Two dense maxout layers and a softmax layer: piecewise linear, hence easy to fool (section 6)."""

    def __init__(self, config: MaxoutConfig):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(nn.Flatten(), nn.Dropout(config.dropout),
                                 Maxout(config.in_features, config.units, config.pieces), nn.Dropout(config.dropout),
                                 Maxout(config.units, config.units, config.pieces), nn.Dropout(config.dropout),
                                 nn.Linear(config.units, config.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class CNNConfig:
    in_channels: int = 1
    channels: int = field(default=16, metadata={"help": "Channels of the first conv layer (doubled in the second)."})
    hidden: int = 100
    num_classes: int = 10
    image_size: int = 28

    def __post_init__(self) -> None:
        for name in ("in_channels", "channels", "hidden", "num_classes", "image_size"):
            _check(name, getattr(self, name))


@register_model("cnn", CNNConfig)
class SmallCNN(nn.Module):
    """conv5-pool-conv5-pool-dense: a LeNet-style network, ~100k parameters (0.4 MB) at the defaults."""

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        c = config.channels
        side = config.image_size // 4  # two 2x2 poolings; 'same' padding keeps the size otherwise
        self.net = nn.Sequential(
            nn.Conv2d(config.in_channels, c, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * c * side * side, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class MadryCNNConfig:
    in_channels: int = 1
    num_classes: int = 10
    image_size: int = 28

    def __post_init__(self) -> None:
        for name in ("in_channels", "num_classes", "image_size"):
            _check(name, getattr(self, name))


@register_model("madry", MadryCNNConfig)
class MadryCNN(nn.Module):
    """Madry et al. 2018's MNIST network (their released ``mnist_challenge`` model): two 5x5 'same' convolutions
    (32, 64 channels) each followed by 2x2 max pooling, a 1024-unit ReLU layer and the logits."""

    def __init__(self, config: MadryCNNConfig):
        super().__init__()
        self.config = config
        side = config.image_size // 4
        self.net = nn.Sequential(
            nn.Conv2d(config.in_channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * side * side, 1024), nn.ReLU(), nn.Linear(1024, config.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_classifier(arch: str, **overrides) -> nn.Module:
    """A registered classifier by architecture name (softmax | mlp | maxout | cnn | madry)."""
    from advkit.models.registry import build_model

    if arch not in ARCHS:
        raise AdvkitError(f"unknown classifier architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    return build_model(arch, overrides)
