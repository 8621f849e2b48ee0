"""Denoised smoothing (Salman, Sun, Yang, Kapoor & Kolter 2020, "Denoised Smoothing: A Provable Defense for
Pretrained Classifiers"): smooth f(D(x)) instead of f(x), with D a Gaussian denoiser, so that an off-the-shelf
classifier f never trained on noise becomes certifiable. The smoothed classifier is
g(x) = argmax_c P(f(D(x + delta)) = c), delta ~ N(0, sigma^2 I); CERTIFY is unchanged.

Denoisers (:func:`load_front`): advkit's shipped ones (``blind-grey``, ``blind``: told the noise level sigma; the
sigma-50 ``fast`` / ``quality``), a ``denoise train`` (or ``certify train-denoiser``) checkpoint, or a TorchScript
file taking [B, C, H, W] noisy images. Grey images through a colour denoiser go in as three equal channels and
come out averaged. The output is not clipped: it is differentiable, for training the denoiser through a frozen
classifier and for attacking the whole pipeline.

    >>> model = denoised_classifier(load_front("blind-grey", sigma=0.25, device=device), classifier)
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.values import takes_noise_level


class DenoiserFront(nn.Module):
    """x [B, C, H, W] -> D(x) [B, C, H, W]; a blind denoiser is told ``sigma`` (pixels in [0, 1])."""

    def __init__(self, model: nn.Module, sigma: float, channels: int | None = None):
        super().__init__()
        self.model, self.sigma = model, float(sigma)
        self.blind = takes_noise_level(model)
        self.channels = channels or getattr(getattr(model, "config", None), "channels", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        colour = self.channels == 3 and x.shape[1] == 1
        inputs = x.expand(-1, 3, -1, -1) if colour else x
        out = self.model(inputs, self.sigma * 255.0) if self.blind else self.model(inputs)
        return out.mean(1, keepdim=True) if colour else out


def denoised_classifier(front: nn.Module, classifier: nn.Module) -> nn.Module:
    """f(D(x)) as one module (the denoiser first)."""
    return nn.Sequential(front, classifier)


def load_front(spec: str, sigma: float, device: torch.device | str = "cpu", fold: bool = True) -> DenoiserFront:
    """The denoiser a spec names (see the module docstring), in eval mode on ``device``, weights frozen."""
    from advkit.denoise.inference import SHIPPED_MODELS, load_denoiser
    from advkit.models.loader import is_torchscript, load_torchscript

    device = torch.device(device)
    path = Path(spec)
    if spec in SHIPPED_MODELS:
        model = load_denoiser(None, device, fold=fold, shipped=spec)[0]
    elif not path.is_file():
        raise AdvkitError(f"--denoiser {spec!r} is neither a shipped denoiser ({', '.join(SHIPPED_MODELS)}) nor an "
                          "existing checkpoint or TorchScript file")
    elif is_torchscript(path):
        model = load_torchscript(path, device)
    else:
        model = load_denoiser(path, device, fold=fold)[0]
    model = model.to(device).eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return DenoiserFront(model, sigma)
