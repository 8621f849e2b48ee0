"""JPEG compression as a purifier (Dziugaite et al. 2016; Guo, Rana, Cisse & van der Maaten 2018, "Countering
adversarial images using input transformations"): encode each image as an 8-bit JPEG of the given ``quality``
(1-100) and decode it. Quantising DCT coefficients discards high-frequency perturbations, and the map is not
differentiable, so gradient attacks through it fail; BPDA with the identity backward does not (Athalye et al.
2018). Grey (C=1) and colour (C=3) images; computed on the CPU with Pillow's libjpeg, image by image.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``x'`` like ``x`` (multiples of 1/255), on ``x``'s device.

    >>> model = Defended(classifier, JPEG(quality=75))
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from torch import nn

from advkit.errors import AdvkitError


class JPEG(nn.Module):
    differentiable, randomized = False, False

    def __init__(self, quality: int = 75):
        super().__init__()
        if not 1 <= quality <= 100:
            raise AdvkitError(f"JPEG quality must be an integer from 1 to 100; got {quality}")
        self.quality = int(quality)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise AdvkitError(f"JPEG compresses grey or RGB images [B, 1|3, H, W]; got shape {tuple(x.shape)}")
        pixels = (x.detach().clamp(0, 1) * 255).round().to("cpu", torch.uint8).permute(0, 2, 3, 1).numpy()
        decoded = [self.compress(image[..., 0] if image.shape[-1] == 1 else image) for image in pixels]
        out = torch.from_numpy(np.stack(decoded)).float().div_(255)
        return out.reshape(x.shape[0], x.shape[2], x.shape[3], -1).permute(0, 3, 1, 2).contiguous().to(x.device, x.dtype)

    def compress(self, image: np.ndarray) -> np.ndarray:
        """One 8-bit image ``[H, W]`` or ``[H, W, 3]`` through a JPEG file in memory."""
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=self.quality)
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            return np.asarray(decoded)
