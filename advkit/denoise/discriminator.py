"""DCGAN-style discriminator for the denoising GAN (Radford et al. 2015; conditional patch form: Isola et al. 2017).

Layers: 4x4 stride-2 convolutions, LeakyReLU 0.2, widths ``width * 2**i``, no pooling, batch norm on all
but the first layer (or spectral norm, Miyato et al. 2018, instead of batch norm). Two heads:

* ``patch=False`` -- the source's D: the last feature map flattened into one linear logit per image
  (fixed input size ``image_size``, the training crop).
* ``patch=True`` -- a PatchGAN head: a 3x3 convolution giving a logit map ``[B, 1, H/2^L, W/2^L]``, one
  verdict per overlapping patch; any input size.

``conditional=True`` makes D judge the *pair* (noisy input, candidate) -- concatenated on channels, so it
sees 6 channels -- and it can reject outputs that look clean but do not fit their input, which an
unconditional D (the source's) cannot: that is why the original learned outlines but not colour.

    >>> D = build_model("denoise-d", {"conditional": True, "patch": True})
    >>> logits = D(candidate, noisy)      # [B, 1, h, w] logits (losses average over every patch)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from advkit.errors import AdvkitError
from advkit.models.registry import register_model


@dataclass
class DenoiseDiscriminatorConfig:
    channels: int = 3
    width: int = 64
    layers: int = 3
    conditional: bool = True
    patch: bool = True
    image_size: int = 96       # the crop size; used by the linear head (patch=False) only
    spectral_norm: bool = True

    def __post_init__(self) -> None:
        for name in ("channels", "width", "layers", "image_size"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"discriminator {name} must be a positive integer; got {getattr(self, name)}")
        if not self.patch and self.image_size % 2 ** self.layers:
            raise AdvkitError(f"--crop {self.image_size} must be a multiple of {2 ** self.layers} for the linear D head")


@register_model("denoise-d", DenoiseDiscriminatorConfig)
class DenoiseDiscriminator(nn.Module):
    def __init__(self, config: DenoiseDiscriminatorConfig):
        super().__init__()
        self.config = config
        sn = _spectral_norm if config.spectral_norm else (lambda layer: layer)
        width_in = config.channels * (2 if config.conditional else 1)
        blocks: list[nn.Module] = []
        for i in range(config.layers):
            width = config.width * 2 ** i
            blocks.append(sn(nn.Conv2d(width_in, width, 4, 2, 1)))
            if i > 0 and not config.spectral_norm:  # DCGAN: no BN on D's first layer
                blocks.append(nn.BatchNorm2d(width))
            blocks.append(nn.LeakyReLU(0.2))
            width_in = width
        self.features = nn.Sequential(*blocks)
        if config.patch:
            self.head = sn(nn.Conv2d(width_in, 1, 3, 1, 1))
        else:
            s = config.image_size // 2 ** config.layers
            self.head = nn.Sequential(nn.Flatten(), sn(nn.Linear(width_in * s * s, 1)))

    def forward(self, candidate: torch.Tensor, noisy: torch.Tensor | None = None) -> torch.Tensor:
        """Logits for ``candidate`` images in [0, 1] (given the ``noisy`` input when conditional)."""
        x = candidate * 2 - 1
        if self.config.conditional:
            if noisy is None:
                raise AdvkitError("a conditional denoising discriminator needs the noisy input too")
            x = torch.cat([x, noisy * 2 - 1], 1)
        return self.head(self.features(x))
