"""Reading a user's image safely: every way a file can be wrong gets a one-line error that says what to do.

Converts when the meaning is kept (greyscale, palette or RGBA to RGB for a colour model; 16-bit to 8-bit
by scaling) and refuses otherwise (a transparent image whose alpha hides content, a file that is not an
image, a truncated file, an image too large to hold in memory).

    >>> x = load_image("cat.png", mode="RGB")   # float tensor [3, H, W] in [0, 1]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from advkit.errors import AdvkitError

MAX_PIXELS = 64_000_000  # ~ 8000 x 8000: 768 MB as float RGB; larger images must be tiled by the caller
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def load_image(path: str | Path, mode: str = "RGB", max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """Load an 8- or 16-bit image as float [C, H, W] in [0, 1]; ``mode`` is "RGB" or "L"."""
    path = Path(path)
    if not path.exists():
        raise AdvkitError(f"image {path} does not exist; check the path")
    if path.is_dir():
        raise AdvkitError(f"{path} is a directory; pass image files (PNG/JPEG), e.g. {path}/*.png")
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise AdvkitError(f"{path} is {width}x{height} = {width * height / 1e6:.0f} Mpixels, above the "
                                  f"{max_pixels / 1e6:.0f} Mpixel limit; downscale it first")
            img.load()  # decodes now, so a truncated file fails here and not later
            array = _to_array(img, mode, path)
    except AdvkitError:
        raise
    except UnidentifiedImageError:
        raise AdvkitError(f"{path} is not an image PIL can read (wrong extension or corrupt file); pass a PNG or JPEG") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise AdvkitError(f"{path} is truncated or corrupt ({str(e).splitlines()[0][:80]}); re-export the image") from None
    tensor = torch.from_numpy(array)
    return tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1).contiguous()


def load_image_uint8(path: str | Path, mode: str = "RGB") -> torch.Tensor:
    """:func:`load_image` as uint8 [C, H, W] (0-255): a quarter of the float size, for training sets held in memory."""
    return (load_image(path, mode) * 255).round().to(torch.uint8)


def _to_array(img: Image.Image, mode: str, path: Path) -> np.ndarray:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to [0, 1] by the 16-bit range, then expand to RGB if asked.
        grey = np.asarray(img, dtype=np.float32) / 65535.0
        return np.repeat(grey[..., None], 3, axis=2) if mode == "RGB" else grey
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        if rgba[..., 3].min() < 1.0:
            raise AdvkitError(f"{path} has transparent pixels, whose colour is undefined; flatten it onto a "
                              "background (e.g. `convert in.png -flatten out.png`) and retry")
        img = img.convert("RGB")
    if mode == "RGB":
        return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    if mode == "L":
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    raise AdvkitError(f"image mode must be RGB or L; got {mode!r}")


def list_images(folder: str | Path) -> list[Path]:
    """Image files of a folder (sorted, recursive); an error if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AdvkitError(f"image folder {folder} does not exist; pass a folder of PNG/JPEG images")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise AdvkitError(f"{folder} holds no PNG/JPEG images")
    return files
