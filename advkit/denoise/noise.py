"""The corruption process, apart from the network: additive white Gaussian noise (AWGN).

    y = x + n,   n ~ N(0, (sigma / 255)^2) i.i.d. per pixel *and* per channel,

with images ``x`` as float tensors ``[C, H, W]`` or ``[B, C, H, W]`` in [0, 1] and ``sigma`` given on the
0-255 scale (the literature's convention: "sigma = 50" means std 50/255 in [0, 1] units). ``clip=True``
clamps ``y`` to [0, 1] (what a saved 8-bit noisy image holds); the denoising benchmarks (DnCNN, FFDNet,
CBM3D numbers) use the unclipped ``clip=False``, which is the default.

``mode="compat"`` reproduces the source's ``read_stl10.py`` (denoise_dcgan): one noise field ``[H, W]``
drawn once and added to all three channels alike, then the whole image min-max rescaled to [0, 1]
instead of clipped. That corruption is colour-neutral noise plus a global contrast change, which is part
of why the original network "learned the outlines but not the colour".

Noise is seeded: the same ``seed`` (or the same state of a ``torch.Generator``) gives the same noise on
any device, because it is drawn on the CPU and then moved to the image's device. ``on_device=True`` (the
trainer on a GPU) instead draws the noise on the image's device from a seed that the CPU generator draws:
much faster there, still reproducible and resumable, but the values depend on the device.

Blind training (a model told the noise level, FFDNet style) gives one ``sigma`` per image, a tensor
``[B]``, and may clip only some images of a batch: ``clip`` is then a bool tensor ``[B]``.

    >>> noisy = add_noise(clean, sigma=50, seed=0)                 # i.i.d., unclipped
    >>> noisy = add_noise(clean, sigma=50, seed=0, clip=True)      # clamped to [0, 1]
    >>> noisy = add_noise(clean, sigma=50, seed=0, mode="compat")  # the source's shared field + min-max
    >>> noisy = add_noise(batch, sigma=torch.tensor([5.0, 40.0]), generator=g,
    ...                   clip=torch.tensor([True, False]))           # per image sigma and clipping
"""

from __future__ import annotations

import torch

from advkit.denoise.options import MODES
from advkit.errors import AdvkitError
from advkit.values import parse_noise_level


def check_sigma(sigma: float | torch.Tensor) -> None:
    """A noise level: a number, or a [B] tensor of per-image numbers, in [0, 255]."""
    if isinstance(sigma, torch.Tensor):
        if sigma.dim() > 1 or sigma.isnan().any() or (sigma < 0).any() or (sigma > 255).any():
            raise AdvkitError("per-image noise stds must be a [B] tensor of values in [0, 255] (0-255 pixel scale)")
        return
    parse_noise_level(sigma, allow_auto=False)


def _per_image(value: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """A [B] tensor shaped to broadcast over [B, C, H, W]."""
    if noise.dim() != 4 or len(value) != len(noise):
        raise AdvkitError(f"per-image values need a [B, C, H, W] batch of {len(value)} images; "
                          f"got {tuple(noise.shape)}")
    return value.to(noise.device, noise.dtype).view(-1, 1, 1, 1)


def gaussian_noise(shape: tuple[int, ...], sigma: float | torch.Tensor, generator: torch.Generator,
                   device: torch.device | str | None = None) -> torch.Tensor:
    """Zero-mean Gaussian noise of std ``sigma / 255`` (a float, or [B] per image) drawn from ``generator``.

    ``device`` None: drawn on the CPU (device-independent values). Else drawn on ``device`` from a seed that
    ``generator`` draws (fast on a GPU; reproducible from the generator's state on that device type).
    """
    if device is None:
        noise = torch.randn(shape, generator=generator)
    else:
        device_generator = torch.Generator(device).manual_seed(int(torch.randint(2 ** 62, (1,), generator=generator)))
        noise = torch.randn(shape, generator=device_generator, device=device)
    if isinstance(sigma, torch.Tensor):
        return noise * _per_image(sigma, noise) / 255.0
    return noise * (sigma / 255.0)


def add_noise(clean: torch.Tensor, sigma: float | torch.Tensor, seed: int | None = None,
              generator: torch.Generator | None = None, mode: str = "iid", clip: bool | torch.Tensor = False,
              on_device: bool = False) -> torch.Tensor:
    """Corrupt ``clean`` ([C, H, W] or [B, C, H, W], in [0, 1]) with AWGN of std ``sigma`` on the 0-255 scale.

    Give either ``seed`` (a fresh generator) or ``generator`` (advanced in place, for training streams).
    ``sigma`` and ``clip`` may be per image ([B] tensors); ``on_device`` draws the noise on ``clean``'s device.
    """
    check_sigma(sigma)
    if mode not in MODES:
        raise AdvkitError(f"noise mode must be one of {', '.join(MODES)}; got {mode!r}")
    if clean.dim() not in (3, 4):
        raise AdvkitError(f"images must be [C, H, W] or [B, C, H, W]; got shape {tuple(clean.shape)}")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    device = clean.device if on_device else None
    if mode == "iid":
        noise = gaussian_noise(tuple(clean.shape), sigma, generator, device)
    else:
        # The source drew one [H, W] field per image and broadcast it over the channels.
        field_shape = (*clean.shape[:-3], 1, *clean.shape[-2:])
        noise = gaussian_noise(field_shape, sigma, generator, device).expand_as(clean)
    noisy = clean + noise.to(device=clean.device, dtype=clean.dtype)
    if mode == "compat":
        return minmax_rescale(noisy)
    if isinstance(clip, torch.Tensor):
        return torch.where(_per_image(clip, noisy).bool(), noisy.clamp(0, 1), noisy)
    return noisy.clamp(0, 1) if clip else noisy


def minmax_rescale(images: torch.Tensor) -> torch.Tensor:
    """Rescale each image (over all its channels and pixels) linearly onto [0, 1], as the source's loader did."""
    flat = images.reshape(*images.shape[:-3], -1)
    low = flat.amin(-1)[..., None, None, None]
    high = flat.amax(-1)[..., None, None, None]
    return (images - low) / (high - low).clamp_min(1e-12)


def image_seed(base_seed: int, name: str) -> int:
    """A fixed noise seed per image name, so evaluation noise repeats across runs, machines and set orders."""
    import zlib

    return (int(base_seed) * 1_000_003 + zlib.crc32(name.encode())) % (2 ** 31)
