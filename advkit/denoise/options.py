"""The denoising choices a config may name, readable without importing torch (fast ``--help``): corruption modes
(:mod:`advkit.denoise.noise`), generator architectures and normalizations (:mod:`advkit.denoise.generator`), and
the check of a noise level.

    >>> check_noise_std(50)          # fine; 300 or -1 raise a one-line AdvkitError
"""

from __future__ import annotations

from advkit.errors import AdvkitError

MODES = ("iid", "compat")
NORMS = ("none", "batch", "group")
ARCHS = {"unet": "denoise-unet", "original": "denoise-original", "original-bn": "denoise-original-bn"}


def check_noise_std(sigma: float) -> None:
    """A noise std on the 0-255 pixel scale: a number in [0, 255]."""
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma != sigma or not 0 <= sigma <= 255:
        raise AdvkitError(f"--noise-std must be in [0, 255] (std on the 0-255 pixel scale, e.g. 50); got {sigma}")
