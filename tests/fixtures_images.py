"""Small real-photo image folders for tests, cut from scikit-image's bundled sample images (no download).

Denoising tests need natural images (smooth regions, edges, texture), not noise: random tensors have no
structure a denoiser could recover. These crops come from skimage.data's astronaut, coffee, chelsea,
rocket and camera photos, which ship inside scikit-image.

    from fixtures_images import make_image_folder      # (tests/ is on sys.path, as for conftest)
    folder = make_image_folder(tmp_path / "train", n=4, size=64)             # 4 colour 64x64 PNGs
    grey = make_image_folder(tmp_path / "grey", n=2, size=(48, 80), grey=True)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

COLOUR_SOURCES = ("astronaut", "coffee", "chelsea", "rocket")
GREY_SOURCES = ("camera",)


@lru_cache(maxsize=None)
def _sample(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    return image if image.ndim == 3 else image[..., None]  # [H, W, C] uint8


def sample_crops(n: int = 4, size: int | tuple[int, int] = 64, grey: bool = False) -> list[np.ndarray]:
    """``n`` different uint8 crops ([H, W, 3] colour or [H, W] grey) cycling through the sample photos; the
    k-th pass over the photos crops further along the diagonal, so no two crops are the same."""
    height, width = (size, size) if isinstance(size, int) else size
    names = COLOUR_SOURCES + (GREY_SOURCES if grey else ())
    crops = []
    for i in range(n):
        image = _sample(names[i % len(names)])
        room_y, room_x = image.shape[0] - height, image.shape[1] - width
        if room_y < 0 or room_x < 0:
            raise ValueError(f"a {height}x{width} crop does not fit in skimage.data.{names[i % len(names)]} "
                             f"({image.shape[0]}x{image.shape[1]})")
        step = (i // len(names) + 1) / (n // len(names) + 2)  # fractions along the diagonal, all distinct
        top, left = int(room_y * step), int(room_x * step)
        crop = image[top:top + height, left:left + width]
        if grey:
            crop = crop[..., 0] if crop.shape[2] == 1 else np.asarray(Image.fromarray(crop).convert("L"))
        elif crop.shape[2] == 1:
            crop = np.repeat(crop, 3, axis=2)
        crops.append(np.ascontiguousarray(crop))
    return crops


def make_image_folder(folder: str | Path, n: int = 4, size: int | tuple[int, int] = 64, grey: bool = False,
                      suffix: str = ".png") -> Path:
    """Write ``n`` crops as ``img_00.png`` ... into ``folder`` (created) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, crop in enumerate(sample_crops(n, size, grey)):
        Image.fromarray(crop).save(folder / f"img_{i:02d}{suffix}")
    return folder
