"""Noise-level estimation on real photos with synthetic noise of known sigma (skimage.data images)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advkit.denoise.estimate import clipped_fraction, estimate_sigma
from advkit.denoise.noise import add_noise
from advkit.errors import AdvkitError


def photos() -> list[torch.Tensor]:
    from skimage import data as skdata

    as_chw = lambda a: torch.from_numpy(a).permute(2, 0, 1).float() / 255  # noqa: E731
    # full resolution: downscaling packs more texture into the finest wavelet band (estimates run high)
    return [as_chw(skdata.astronaut()), as_chw(skdata.coffee()),
            torch.from_numpy(skdata.camera()).float()[None] / 255]  # colour, colour, grey


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("sigma", [15.0, 25.0, 50.0])
def test_estimate_within_10_percent(sigma, clip):
    for i, clean in enumerate(photos()):
        noisy = add_noise(clean, sigma, seed=i, clip=clip)
        estimate = estimate_sigma(noisy)
        assert abs(estimate / sigma - 1) < 0.10, (i, sigma, clip, estimate)


def test_estimate_grows_with_the_noise_and_is_small_on_a_clean_photo():
    clean = photos()[0]
    estimates = [estimate_sigma(add_noise(clean, s, seed=0)) for s in (5, 10, 20, 40, 70)]
    assert all(a < b for a, b in zip(estimates, estimates[1:]))
    assert estimate_sigma(clean) < 4  # texture floor removed: a clean photo reads as (nearly) noise-free


def test_clipping_correction_applies_only_to_clipped_values():
    clean = photos()[1]
    raw = add_noise(clean, 60, seed=0)
    assert clipped_fraction(raw) == 0  # unclipped noise leaves [0, 1], it does not sit on 0 or 1
    clipped = raw.clamp(0, 1)
    assert clipped_fraction(clipped) > 0.05
    corrected, uncorrected = estimate_sigma(clipped), estimate_sigma(clipped, clipped=False)
    assert uncorrected < 0.93 * 60 and abs(corrected / 60 - 1) < 0.1  # clipping hides noise; corrected back


def test_numpy_hwc_and_tensor_chw_agree_and_tiny_input_is_refused():
    noisy = add_noise(photos()[0], 25, seed=1)
    # the same float64 wavelet MAD of the same values (approx's 1e-6 relative is spare)
    assert estimate_sigma(noisy) == pytest.approx(estimate_sigma(noisy.permute(1, 2, 0).numpy()))
    with pytest.raises(AdvkitError, match="at least 8x8"):
        estimate_sigma(np.zeros((4, 4)))


def test_per_channel_estimate_equals_scikit_images_whole_image_average():
    """The estimator works one float64 plane at a time (memory); the number is scikit-image's own."""
    from skimage.restoration import estimate_sigma as wavelet_mad

    from advkit.denoise.estimate import TEXTURE_FLOOR

    noisy = add_noise(photos()[1], 30, seed=2)
    hwc = noisy.permute(1, 2, 0).numpy().astype(np.float64)
    raw = float(wavelet_mad(hwc, average_sigmas=True, channel_axis=-1)) * 255.0
    # the same float64 formula: a few roundings of 2.2e-16
    assert estimate_sigma(noisy, clipped=False) == pytest.approx(np.sqrt(raw ** 2 - TEXTURE_FLOOR ** 2), rel=1e-12)
    clipped = noisy.clamp(0, 1)
    # a fraction of counted pixels: exact up to the division
    assert clipped_fraction(clipped) == pytest.approx(float(((hwc.clip(0, 1) == 0) | (hwc.clip(0, 1) == 1)).mean()))
