"""A blind denoiser: the residual U-Net of :mod:`advkit.denoise.generator` told the noise level as an input map.

FFDNet (Zhang, Zuo & Zhang 2018, "FFDNet: Toward a fast and flexible solution for CNN based image
denoising") and DRUNet (Zhang et al. 2021, "Plug-and-play image restoration with deep denoiser prior")
feed the noise level to the network as an extra input channel, a constant map filled with ``sigma / 255``
concatenated to the noisy image. One network trained over a range of sigmas (here uniform in [0, 75] on
the 0-255 scale) then denoises any level in that range, and the level can come from an estimator
(:mod:`advkit.denoise.estimate`) when it is unknown. Trained on a mix of clipped and unclipped inputs it
also handles what 8-bit files hold (noise clipped at 0 and 1).

Shapes: ``noisy [B, C, H, W]`` (C = 3 colour or 1 grey, [0, 1] units) and ``sigma`` on the 0-255 scale:
a number, a ``[B]`` tensor (one level per image) or a ``[B, 1, H, W]`` map (a level per pixel, FFDNet's
spatially variant case). Output ``[B, C, H, W]``, any H, W (reflect-padded to the stride and cropped).

    >>> G = build_model("denoise-blind-unet", {"channels": 3, "width": 16})
    >>> clean_hat = G(noisy, 25.0)                       # or G(noisy, torch.tensor([15.0, 50.0]))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from advkit.denoise.generator import UNetDenoiser, UNetDenoiserConfig, pad_to_multiple
from advkit.errors import AdvkitError
from advkit.models.registry import register_model

SIGMA_RANGE = (0.0, 75.0)  # the training range of the blind models (0-255 scale); beyond it they extrapolate


@dataclass
class BlindUNetDenoiserConfig(UNetDenoiserConfig):
    """The U-Net's fields; the noise level is an input, not a field."""


def noise_level_map(sigma: float | torch.Tensor, noisy: torch.Tensor) -> torch.Tensor:
    """The ``[B, 1, H, W]`` input map ``sigma / 255`` for ``noisy`` [B, C, H, W].

    ``sigma`` (0-255 scale): a number, a ``[B]`` tensor or a ``[B, 1, H, W]`` map."""
    b, _, h, w = noisy.shape
    if not isinstance(sigma, torch.Tensor):
        sigma = torch.tensor(float(sigma))
    sigma = sigma.to(device=noisy.device, dtype=noisy.dtype)
    if sigma.dim() == 0:
        sigma = sigma.expand(b)
    if sigma.dim() == 1 and len(sigma) == b:
        return (sigma / 255.0).view(b, 1, 1, 1).expand(b, 1, h, w)
    if sigma.shape == (b, 1, h, w):
        return sigma / 255.0
    raise AdvkitError(f"the noise level must be a number, a [{b}] tensor or a [{b}, 1, {h}, {w}] map (0-255 "
                      f"scale); got shape {tuple(sigma.shape)}")


@register_model("denoise-blind-unet", BlindUNetDenoiserConfig)
class BlindUNetDenoiser(UNetDenoiser):
    """The residual U-Net with one more input channel, the noise-level map; the residual is the image's alone."""
    map_channels = 1
    takes_noise_level = True  # callers (tiling, evaluation) pass sigma along

    def forward(self, noisy: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if noisy.dim() != 4 or noisy.shape[1] != self.config.channels:
            raise AdvkitError(f"denoiser expects [B, {self.config.channels}, H, W] images; got {tuple(noisy.shape)}")
        x = torch.cat([noisy, noise_level_map(sigma, noisy)], 1)
        padded, (h, w) = pad_to_multiple(x, self.stride)
        return self.body(padded)[..., :h, :w]
