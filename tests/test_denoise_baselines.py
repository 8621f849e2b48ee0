"""The classical baselines keep the image's channels: grey in, grey out (BM3D, not CBM3D, on one channel)."""

import numpy as np
import pytest
from skimage import data

from advkit.denoise.baselines import available_baselines


@pytest.mark.parametrize("channels", [1, 3])
def test_baselines_keep_channels_and_denoise(channels):
    rng = np.random.default_rng(0)
    clean = data.astronaut()[100:164, 200:264].astype(np.float64) / 255.0
    clean = clean.mean(axis=-1, keepdims=True) if channels == 1 else clean
    noisy = clean + rng.normal(0, 25 / 255.0, clean.shape)
    for name, method in available_baselines().items():
        out = method(noisy, 25.0)
        assert out.shape == clean.shape, name
        assert out.min() >= 0 and out.max() <= 1, name
        # every method must remove part of the noise: a lower error than the noisy input's
        assert np.mean((out - clean) ** 2) < np.mean((np.clip(noisy, 0, 1) - clean) ** 2), name
