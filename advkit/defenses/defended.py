"""A purification defence: ``classifier(purifier(x))``, the pre-processing defences Athalye, Carlini & Wagner (2018,
"Obfuscated gradients give a false sense of security") broke with BPDA and EOT.

A purifier is an ``nn.Module`` mapping images ``[B, C, H, W]`` in [0, 1] to images of the same shape in [0, 1]
(:mod:`advkit.defenses`: bit depth, JPEG, median, TV, a denoiser, Defense-GAN). Two class attributes say how an
attack can get through it: ``differentiable`` (autograd gives a useful gradient: attack the composition directly)
and ``randomized`` (each call draws new randomness: attack with :class:`advkit.defenses.EOT`).

    >>> model = Defended(classifier, BitDepth(bits=1))
    >>> model(x).argmax(1)                                     # the defended prediction
    >>> PGD(Defended(classifier, BPDA(BitDepth(bits=1))), eps=0.3)(x, y)   # the adaptive attack
"""

from __future__ import annotations

import torch
from torch import nn


class Identity(nn.Module):
    """The purifier that does nothing: a defended model with it is exactly its classifier (the baseline)."""

    differentiable, randomized = True, False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Defended(nn.Module):
    """``classifier(purifier(x))`` for images ``x`` in [0, 1]; logits ``[B, classes]``."""

    def __init__(self, classifier: nn.Module, purifier: nn.Module):
        super().__init__()
        self.classifier, self.purifier = classifier, purifier

    @property
    def differentiable(self) -> bool:
        return bool(getattr(self.purifier, "differentiable", False))

    @property
    def randomized(self) -> bool:
        return bool(getattr(self.purifier, "randomized", False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.purifier(x))
