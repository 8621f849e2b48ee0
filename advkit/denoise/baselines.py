"""Classical Gaussian denoisers from scikit-image (and BM3D when installed), as the yardsticks for the GAN.

All take a clean-unknown noisy image as float ``[H, W, C]`` (numpy, [0, 1] units, may leave [0, 1]; C = 3 for
colour, 1 for grey) and the noise std ``sigma`` on the 0-255 scale, and return the estimate ``[H, W, C]`` in
[0, 1]. Grey images get each method's grey form (BM3D rather than CBM3D; wavelets without the YCbCr step).

* ``nlm`` -- non-local means (Buades et al. 2005; ``skimage.restoration.denoise_nl_means``, fast mode),
  with the filtering strength tuned to sigma as scikit-image's guide does: ``h = 0.8 * sigma`` with the
  known sigma passed so the patch distances are bias-corrected; 5x5 patches within a 13x13 search window.
* ``wavelet`` -- wavelet shrinkage, BayesShrink thresholds (Chang et al. 2000), db1, YCbCr
  (``denoise_wavelet(method="BayesShrink", convert2ycbcr=True)``), with the known sigma.
* ``tv`` -- total-variation (Chambolle 2004, ``denoise_tv_chambolle``), weight proportional to sigma.
* ``bm3d`` -- CBM3D on colour, BM3D on grey (Dabov et al. 2007) through the optional ``bm3d`` package (non-commercial licence:
  never a required dependency); listed only when it imports.

    >>> estimate = available_baselines()["nlm"](noisy, sigma=50)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

BASELINES = ("nlm", "wavelet", "tv", "bm3d")  # every classical method advkit knows, in table order


def nlm(noisy: np.ndarray, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    s = sigma / 255.0
    out = denoise_nl_means(noisy, h=0.8 * s, sigma=s, patch_size=5, patch_distance=6, fast_mode=True,
                           channel_axis=-1)
    return np.clip(out, 0, 1).reshape(noisy.shape)  # scikit-image drops a single channel axis


def wavelet(noisy: np.ndarray, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    out = denoise_wavelet(noisy, sigma=sigma / 255.0, method="BayesShrink", mode="soft", wavelet="db1",
                          convert2ycbcr=noisy.shape[-1] == 3, channel_axis=-1, rescale_sigma=True)
    return np.clip(out, 0, 1).reshape(noisy.shape)


def tv(noisy: np.ndarray, sigma: float) -> np.ndarray:
    from skimage.restoration import denoise_tv_chambolle

    # The TV weight trades smoothing for fidelity; ~2x the noise std (in [0, 1] units) is the usual optimum.
    out = denoise_tv_chambolle(noisy, weight=2.0 * sigma / 255.0, channel_axis=-1)
    return np.clip(out, 0, 1).reshape(noisy.shape)


def bm3d_available() -> bool:
    try:
        import bm3d  # noqa: F401
    except Exception:  # noqa: BLE001 - any failure to import means "not available"
        return False
    return True


def cbm3d(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    if noisy.shape[-1] == 1:  # grey: BM3D proper (bm3d_rgb needs three channels for its colour transform)
        return np.clip(bm3d.bm3d(noisy[..., 0], sigma / 255.0), 0, 1)[..., None]
    return np.clip(bm3d.bm3d_rgb(noisy, sigma / 255.0), 0, 1)


def available_baselines() -> dict[str, Callable[[np.ndarray, float], np.ndarray]]:
    """The baselines that can run here, in table order."""
    methods = {"nlm": nlm, "wavelet": wavelet, "tv": tv}
    try:
        import pywt  # noqa: F401  (scikit-image's wavelet denoiser needs PyWavelets)
    except ImportError:
        del methods["wavelet"]
    if bm3d_available():
        methods["bm3d"] = cbm3d
    return methods

