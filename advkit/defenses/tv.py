"""Total-variation minimisation as a purifier (Guo, Rana, Cisse & van der Maaten 2018): replace each image by the
solution of the TV-denoising problem (Rudin, Osher & Fatemi 1992), solved with Chambolle's projection algorithm
(scikit-image ``denoise_tv_chambolle``, per image, all channels together):

    x' = argmin_u  ||u - x||_2^2 / 2 + weight * TV(u)

A larger ``weight`` smooths more. Guo et al. minimise over a random pixel subset (randomised); this is the
deterministic full-image version. Not differentiable here (NumPy): attack it with BPDA.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``x'`` like ``x``, in [0, 1], on ``x``'s device.

    >>> model = Defended(classifier, TVMinimisation(weight=0.1))
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from advkit.errors import AdvkitError


class TVMinimisation(nn.Module):
    differentiable, randomized = False, False

    def __init__(self, weight: float = 0.1, max_iter: int = 200):
        super().__init__()
        if not (weight > 0 and np.isfinite(weight)):
            raise AdvkitError(f"the TV weight must be a number > 0 (0.05-0.3 for [0, 1] images); got {weight}")
        self.weight, self.max_iter = float(weight), int(max_iter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from skimage.restoration import denoise_tv_chambolle

        images = x.detach().to("cpu", torch.float64).numpy()
        out = np.stack([denoise_tv_chambolle(image, weight=self.weight, max_num_iter=self.max_iter, channel_axis=0)
                        for image in images])
        return torch.from_numpy(out).clamp_(0, 1).to(x.device, x.dtype)
