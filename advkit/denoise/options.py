"""The denoising choices a config may name, readable without importing torch (fast ``--help``): corruption modes
(:mod:`advkit.denoise.noise`), generator architectures and normalizations (:mod:`advkit.denoise.generator`).
A noise level is parsed and checked by :func:`advkit.values.parse_noise_level`.

    >>> ARCHS["unet"]
    'denoise-unet'
"""

from __future__ import annotations


MODES = ("iid", "compat")
NORMS = ("none", "batch", "group")
ARCHS = {"unet": "denoise-unet", "original": "denoise-original", "original-bn": "denoise-original-bn"}

