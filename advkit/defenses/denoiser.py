"""A learned denoiser as a purifier (in the spirit of MagNet, Meng & Chen 2017, and the high-level guided
denoiser, Liao et al. 2018): ``x' = D(x)`` with an advkit denoising network (``advkit denoise train``, or the shipped
sigma-50 U-Nets ``fast`` / ``quality``). A network is differentiable, so the white-box attack goes straight through
it (Athalye et al. 2018 count it as no obfuscation at all); BPDA with the identity backward is the cheap check.

Grey images through a colour model are denoised as three equal channels and averaged back (as
:func:`advkit.denoise.apply.denoise_image`). With gradients wanted the network runs whole-image (differentiable);
without, through the tiled :func:`advkit.denoise.apply.denoise_tensor`, which gives the same pixels.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``x'`` like ``x``, in [0, 1], on ``x``'s device.

    >>> purifier = Denoiser.load("fast", torch.device("cpu"))         # or a `denoise train` checkpoint path
    >>> model = Defended(classifier, purifier)
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.denoise.apply import denoise_tensor
from advkit.errors import AdvkitError
from advkit.values import takes_noise_level


class Denoiser(nn.Module):
    differentiable, randomized = True, False

    def __init__(self, model: nn.Module):
        super().__init__()
        if takes_noise_level(model):
            raise AdvkitError("a blind denoiser needs a noise level per image; use a sigma-specific model "
                              "(the shipped fast / quality, or `denoise train` without --blind)")
        self.model = model
        for parameter in model.parameters():
            parameter.requires_grad_(False)

    @classmethod
    def load(cls, name_or_ckpt: str, device: torch.device | str = "cpu") -> "Denoiser":
        """A shipped denoiser (``fast``, ``quality``) or a ``denoise train`` checkpoint, as a purifier."""
        from advkit.denoise.inference import SHIPPED_MODELS, load_denoiser

        shipped = name_or_ckpt if name_or_ckpt in SHIPPED_MODELS else None
        model, _, _ = load_denoiser(None if shipped else name_or_ckpt, torch.device(device), shipped=shipped)
        return cls(model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = self.model.config.channels
        grey_in_colour = x.shape[1] == 1 and channels == 3
        if x.shape[1] != channels and not grey_in_colour:
            raise AdvkitError(f"this denoiser takes {channels}-channel images; got {x.shape[1]} channels")
        inputs = x.expand(-1, 3, -1, -1) if grey_in_colour else x
        if torch.is_grad_enabled() and x.requires_grad:
            out = self.model(inputs.contiguous(memory_format=torch.channels_last)).float().clamp(0, 1)
        else:
            out = denoise_tensor(self.model, inputs.detach()).to(x.device)
        return out.mean(1, keepdim=True) if grey_in_colour else out
