"""Denoising GAN: the corruption process, the generators and discriminator, tiling, classical baselines, evaluation;
the blind model (noise level as an input map), noise-level estimation, applying a model to a user's image.

    advkit denoise train --noise-std 50          # CBSD432 crops, L1 + adversarial loss
    advkit denoise train --blind --clip-fraction 0.5 --val-split 32   # any sigma in [0, 75], clipped or not
    advkit denoise eval --set CBSD68                 # `advkit data fetch CBSD68` first
    advkit denoise apply photo.jpg --out denoised/

The package is also the function :func:`advkit.denoise.api.denoise`: ``advkit.denoise(image, sigma="auto")``
takes a numpy array or tensor (HWC or CHW, uint8/uint16/float, grey or colour) and gives back the same kind.

    >>> import numpy as np, advkit
    >>> noisy = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    >>> advkit.denoise(noisy, sigma=25).dtype
    dtype('uint8')
"""

import sys
import types


class _CallablePackage(types.ModuleType):
    """``advkit.denoise`` is a package and a function at once (a package attribute cannot be both otherwise)."""

    def __call__(self, image, sigma="auto", **options):
        from advkit.denoise.api import denoise

        return denoise(image, sigma, **options)


sys.modules[__name__].__class__ = _CallablePackage
