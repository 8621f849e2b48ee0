"""Noise-level estimation: the std of additive white Gaussian noise in one image, from the image alone.

The estimator is Donoho & Johnstone's (1994, "Ideal spatial adaptation by wavelet shrinkage"): the finest
diagonal wavelet sub-band (Daubechies db2) of a natural image holds almost only noise, so

    sigma_hat = median(|HH|) / 0.6745          (the median absolute deviation of a Gaussian is 0.6745 sigma)

computed per channel and averaged over the channels by scikit-image
(``skimage.restoration.estimate_sigma(..., average_sigmas=True)``). Two corrections follow, both fitted on
the *training* set CBSD432 (never on a test set) and documented in docs/results/denoise-blind.md:

* **texture**: fine texture leaks into HH, so a clean photo reads as sigma ~2.2; that floor is removed
  in quadrature, ``sqrt(max(sigma_hat^2 - 2.2^2, 0))``;
* **clipping**: an 8-bit file clips the noisy values to [0, 1], which shrinks the noise near black and
  white (at sigma 75 the raw estimate is ~18% low). The estimate is scaled by ``1 + a p + b p^2``, ``p``
  the fraction of values exactly at 0 or 1 (no such value in unclipped noise). A clean image with large
  saturated areas also raises ``p``; pass ``clipped=False`` when the noise is known not to be clipped.

Input: an ``[H, W, C]`` or ``[H, W]`` numpy array (or a ``[C, H, W]`` tensor) in [0, 1] units; output:
sigma on the 0-255 scale (the convention of :mod:`advkit.denoise.noise`).

    >>> estimate_sigma(noisy)            # e.g. 24.6 for sigma-25 noise
"""

from __future__ import annotations

import numpy as np
import torch

from advkit.errors import AdvkitError

TEXTURE_FLOOR = 2.2                  # median raw estimate on clean CBSD432 images (0-255 scale)
CLIP_CORRECTION = (0.635, 2.494)     # a, b of 1 + a p + b p^2, least squares on CBSD432, sigma 10..75, clipped


def _as_hwc(image: np.ndarray | torch.Tensor) -> np.ndarray:
    """An ``[H, W, C]`` numpy view (no copy: a 24-megapixel photo must not be duplicated, let alone in float64)."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().float()  # a no-op for the float32 images advkit reads
        image = image.permute(1, 2, 0).numpy() if image.dim() == 3 else image.numpy()
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or min(image.shape[:2]) < 8:
        raise AdvkitError(f"noise estimation needs an [H, W], [H, W, C] array or [C, H, W] tensor of at least 8x8; "
                          f"got shape {image.shape}")
    return image


def clipped_fraction(image: np.ndarray | torch.Tensor) -> float:
    """The fraction of values exactly at 0 or 1 (what clipping leaves; unclipped noise leaves [0, 1] instead)."""
    x = _as_hwc(image)
    # channel by channel: boolean masks of one plane, not of the whole image
    hits = sum(int(np.count_nonzero((plane == 0) | (plane == 1))) for plane in np.moveaxis(x, -1, 0))
    return hits / x.size


def estimate_sigma(image: np.ndarray | torch.Tensor, clipped: bool | None = None) -> float:
    """The noise std of ``image`` ([0, 1] units) on the 0-255 scale; ``clipped`` None: decide from the image."""
    from skimage.restoration import estimate_sigma as wavelet_mad

    x = _as_hwc(image)
    # scikit-image's average_sigmas=True is the mean of its per-channel estimates; taking them one float64
    # plane at a time gives the same number with a third of the memory (a 24 MP photo: 192 MB, not 576 MB).
    per_channel = [float(wavelet_mad(np.asarray(plane, dtype=np.float64), channel_axis=None))
                   for plane in np.moveaxis(x, -1, 0)]
    raw = float(np.mean(per_channel)) * 255.0
    sigma = float(np.sqrt(max(raw ** 2 - TEXTURE_FLOOR ** 2, 0.0)))
    if clipped is not False:
        p = clipped_fraction(x)
        a, b = CLIP_CORRECTION
        sigma *= 1.0 + a * p + b * p * p
    return sigma


def estimation_error(folder: str, sigmas: tuple[float, ...] = (15.0, 25.0, 50.0), clip: bool = False,
                     seed: int = 0, limit: int | None = None) -> dict:
    """Estimate sigma on every image of ``folder`` with known synthetic noise; mean/max relative error per sigma."""
    from advkit.data.images import list_images, load_image
    from advkit.denoise.noise import add_noise, image_seed

    files = list_images(folder)[:limit]
    out = {"set": str(folder), "images": len(files), "clip": clip, "sigmas": {}}
    for sigma in sigmas:
        estimates = []
        for path in files:
            noisy = add_noise(load_image(path, "RGB"), sigma, seed=image_seed(seed, path.name), clip=clip)
            estimates.append(estimate_sigma(noisy))
        rel = np.abs(np.array(estimates) / sigma - 1)
        out["sigmas"][f"{sigma:g}"] = {"mean_estimate": float(np.mean(estimates)), "mean_rel_error": float(rel.mean()),
                                       "max_rel_error": float(rel.max())}
    return out
