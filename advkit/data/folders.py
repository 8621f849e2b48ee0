"""Image folders (PNG/JPEG) as training data: random crops and flips, held in memory as uint8.

Small natural-image training sets (CBSD432: 432 images, ~200 MB as uint8) fit in memory; decoding each
file once and cropping tensors is much faster than a DataLoader that re-decodes a JPEG per sample.

    >>> crops = ImageCrops.from_folder("../shared/data/denoise/CBSD432", crop=96)
    >>> batch = crops.sample(16, generator=torch.Generator().manual_seed(0))   # float [16, 3, 96, 96] in [0, 1]
"""

from __future__ import annotations

from pathlib import Path

import torch

from advkit.data.images import list_images, load_image_uint8
from advkit.errors import AdvkitError


class ImageCrops:
    def __init__(self, images: list[torch.Tensor], crop: int, flips: bool = True, source: str = "image folder"):
        small = [tuple(im.shape[1:]) for im in images if min(im.shape[1:]) < crop]
        if small:
            raise AdvkitError(f"{len(small)} image(s) are smaller than the {crop}px crop (e.g. {small[0]}); pass a smaller --crop")
        self.images, self.crop, self.flips, self.source = images, crop, flips, source

    @classmethod
    def from_folder(cls, folder: str | Path, crop: int = 96, flips: bool = True, mode: str = "RGB",
                    limit: int | None = None) -> "ImageCrops":
        files = list_images(folder)[:limit]
        images = [load_image_uint8(f, mode) for f in files]
        return cls(images, crop, flips, source=f"{Path(folder).name} ({len(images)} images, random {crop}px crops)")

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``batch_size`` random crops (uniform image, uniform position, random h/v flips)."""
        out = []
        picks = torch.randint(len(self.images), (batch_size,), generator=generator).tolist()
        for i in picks:
            image = self.images[i]
            _, h, w = image.shape
            top = int(torch.randint(h - self.crop + 1, (1,), generator=generator))
            left = int(torch.randint(w - self.crop + 1, (1,), generator=generator))
            patch = image[:, top:top + self.crop, left:left + self.crop]
            if self.flips:
                flip_h, flip_v = torch.rand(2, generator=generator).tolist()
                if flip_h < 0.5:
                    patch = patch.flip(2)
                if flip_v < 0.5:
                    patch = patch.flip(1)
            out.append(patch)
        return torch.stack(out).float().div_(255)
