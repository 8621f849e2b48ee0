"""Denoise a user's image: pick the grey or colour model that matches it, estimate the noise level when it is
not given, tile large images, keep alpha and bit depth.

The inputs are what :func:`advkit.data.images.read_image` returns (grey ``[1, H, W]`` or colour ``[3, H, W]``
in [0, 1], alpha set aside). A *blind* model (``denoise-blind-unet``, :mod:`advkit.denoise.blind`) is told
the noise level: the given ``sigma`` (0-255 scale) or, when it is None, the estimate of
:func:`advkit.denoise.estimate.estimate_sigma`. A sigma-specific model (the shipped sigma-50 U-Nets) takes
no level; :func:`sigma_mismatch` says when it is used at a level it was not trained for.

When no model matches the image's channels: a colour image through a grey model is denoised channel by
channel (each channel holds i.i.d. noise, what the grey model learned), with a note. A grey image through a
colour model is refused: as three equal channels its noise is identical across them, which a colour model
never saw, and it leaves most of it (measured on Set12, sigma 25: 22.5 dB from 20.2 noisy; see
docs/results/denoise-blind.md).

    >>> image = read_image("scan.png")
    >>> result = denoise_image([colour_G, grey_G], image, sigma=None)     # estimates sigma
    >>> write_image("scan-denoised.png", result["image"]); result["sigma"], result["notes"]
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from advkit.data.images import ImageData
from advkit.denoise.estimate import estimate_sigma
from advkit.denoise.noise import check_sigma
from advkit.denoise.tiling import exact_margin, tiled_apply
from advkit.errors import AdvkitError
from advkit.runtime.amp import inference_autocast
from advkit.runtime.modules import model_device
from advkit.values import takes_noise_level


def trained_sigma(payload: dict) -> float | None:
    """The single noise level a checkpoint was trained at (its config's ``noise_std``); None for a blind model."""
    spec = payload.get("models", {}).get("G", {})
    config = payload.get("config") or {}
    if spec.get("name") == "denoise-blind-unet" or config.get("blind"):
        return None
    value = config.get("noise_std")
    return None if value is None else float(value)


def sigma_mismatch(payload: dict, sigma: float, tolerance: float = 0.5) -> str | None:
    """A warning when a sigma-specific checkpoint is used at another noise level; None when it fits."""
    trained = trained_sigma(payload)
    if trained is None or abs(trained - float(sigma)) <= tolerance:
        return None
    return (f"this model was trained at sigma {trained:g} only and is used at sigma {float(sigma):g}: expect it to "
            f"{'over-smooth' if sigma < trained else 'leave noise'}; pass --model blind (blind-grey for grey images), which takes any sigma in [0, 75]")


def small_sigma_warning(sigma: float | None, bit_depth: int = 8) -> str | None:
    """A warning when a given noise std below 1 looks like a 0-1-scale slip on an 8-bit image (where one grey
    level is 1 on the 0-255 scale, so sigma < 1 is below the file's own rounding); None otherwise."""
    if sigma is None or not 0 < float(sigma) < 1 or bit_depth != 8:
        return None
    return (f"--noise-std {float(sigma):g} is below one grey level: noise std is on the 0-255 scale (25 is common "
            f"photo noise); did you mean {float(sigma) * 255:g}? (--noise-std auto estimates it)")


def pick_model(models: nn.Module | Sequence[nn.Module], channels: int) -> nn.Module:
    """The first model whose ``config.channels`` equals ``channels``, else the first model."""
    models = [models] if isinstance(models, nn.Module) else list(models)
    if not models:
        raise AdvkitError("no denoiser given; pass a grey and/or a colour model")
    return next((m for m in models if m.config.channels == channels), models[0])


@torch.no_grad()
def denoise_tensor(model: nn.Module, noisy: torch.Tensor, sigma: float | torch.Tensor | None = None,
                   tile: int = 512, amp: bool = False, progress: Callable | None = None) -> torch.Tensor:
    """Denoise ``noisy`` [B, C, H, W] (C the model's channels) tile by tile; [B, C, H, W] in [0, 1] on the CPU.
    ``progress``: a progress bar over the tiles (see :func:`advkit.denoise.tiling.tiled_apply`)."""
    device = model_device(model)
    with inference_autocast(device, amp):
        out = tiled_apply(model.eval(), noisy.float(), tile, exact_margin(model), output_device="cpu",
                          sigma=sigma if takes_noise_level(model) else None, progress=progress)
    return out.float().clamp_(0, 1)  # in place: a fresh buffer, and a 24 MP photo's copy would be 288 MB more


def denoise_image(models: nn.Module | Sequence[nn.Module], image: ImageData, sigma: float | None = None,
                  tile: int = 512, amp: bool = False, payload: dict | None = None,
                  progress: Callable | None = None) -> dict:
    """Denoise one decoded image; returns {"image": ImageData, "sigma", "sigma_source", "model", "notes"}.

    ``sigma`` None: estimated from the image (blind models; a sigma-specific model needs none). ``payload``
    (the model's checkpoint) lets a sigma-specific model warn when ``sigma`` is not its training level;
    ``progress``: a progress bar over the tiles.
    """
    notes: list[str] = list(image.notes)
    channels = image.pixels.shape[0]
    model = pick_model(models, channels)
    source = "given"
    if sigma is None:
        sigma, source = estimate_sigma(image.pixels), "estimated"
        notes.append(f"noise level estimated: sigma {sigma:.1f} (0-255 scale)")
    check_sigma(float(sigma))
    if not takes_noise_level(model):
        trained = trained_sigma(payload or {})
        # an estimate is off by a few percent: only a clear difference is worth a warning
        tolerance = 0.5 if source == "given" or trained is None else 0.2 * trained
        warning = sigma_mismatch(payload or {}, sigma, tolerance)
        if warning:
            notes.append(warning)
    x = image.pixels[None]
    want = model.config.channels
    if want == channels:
        out = denoise_tensor(model, x, sigma, tile, amp, progress)[0]
    elif channels == 1:
        raise AdvkitError("this is a grey image and only a colour denoiser was given; pass a grey model (e.g. one "
                          "trained with `denoise train --blind --channels 1`)")
    else:  # colour through a grey model
        notes.append("colour image denoised channel by channel by a grey model")
        out = denoise_tensor(model, x.transpose(0, 1), sigma, tile, amp, progress).transpose(0, 1)[0]
    return {"image": image.with_pixels(out), "sigma": float(sigma), "sigma_source": source,
            "model": getattr(model, "registered_name", type(model).__name__), "notes": notes}
