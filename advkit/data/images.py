"""Reading a user's image safely: every way a file can be wrong gets a one-line error that says what to do.

Two readers:

* :func:`load_image` -- for models and data sets: float [C, H, W] in a fixed ``mode`` (RGB or L). Converts
  when the meaning is kept (greyscale, palette or RGBA to RGB for a colour model; 16-bit to 8-bit by
  scaling) and refuses otherwise (a transparent image whose alpha hides content, a file that is not an
  image, a truncated file, an image too large to hold in memory).
* :func:`read_image` -- for a user's photo that will be written back (:func:`write_image`): keeps what the
  file is. Grey stays grey (1 channel), 16-bit stays 16-bit (grey PNG; grey or colour TIFF), alpha is
  set aside (denoise the colour, re-attach alpha), the EXIF orientation is applied
  (``PIL.ImageOps.exif_transpose``). Every conversion it must make is returned as a note and issued as an
  :class:`ImageConversionWarning`. Pillow decodes 16-bit *colour* PNG at 8 bits: such a file is read
  (and written back) at 8 bits with a note; 16-bit colour TIFF keeps its depth (tifffile).

    >>> x = load_image("cat.png", mode="RGB")   # float tensor [3, H, W] in [0, 1]
    >>> image = read_image("scan.png")          # ImageData: pixels [1, H, W], bit_depth 16, alpha None, notes
    >>> write_image("scan-denoised.png", image.with_pixels(denoised))   # same mode and bit depth
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from advkit.errors import AdvkitError

MAX_PIXELS = 64_000_000  # ~ 8000 x 8000: 768 MB as float RGB; larger images must be tiled by the caller
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def load_image(path: str | Path, mode: str = "RGB", max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """Load an 8- or 16-bit image as float [C, H, W] in [0, 1]; ``mode`` is "RGB" or "L"."""
    path = Path(path)
    _check_path(path)
    with _opened(path, max_pixels) as img:
        img.load()  # decodes now, so a truncated file fails here and not later
        array = _to_array(img, mode, path)
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


# ------------------------------------------------------------------------------------------ read / write back
class ImageConversionWarning(UserWarning):
    """An input image had to be converted to be denoised (palette, CMYK, 1-bit, 16-bit colour PNG, rotation)."""


TIFF_SUFFIXES = {".tif", ".tiff"}
_CONVERT_TO_RGB = {"CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa"}


@dataclass
class ImageData:
    """A decoded image: ``pixels`` float32 [C, H, W] in [0, 1] (C = 1 grey or 3 colour, no alpha), ``alpha``
    [1, H, W] or None, the file's ``bit_depth`` (8 or 16) and the ``notes`` on any conversion made."""
    pixels: torch.Tensor
    alpha: torch.Tensor | None = None
    bit_depth: int = 8
    notes: list[str] = field(default_factory=list)

    @property
    def grey(self) -> bool:
        return self.pixels.shape[0] == 1

    @property
    def mode(self) -> str:
        """PIL's name of what is stored: L, LA, RGB or RGBA."""
        return ("L" if self.grey else "RGB") + ("A" if self.alpha is not None else "")

    def with_pixels(self, pixels: torch.Tensor) -> "ImageData":
        """The same image (alpha, bit depth) with new colour/grey values, e.g. the denoised ones."""
        if pixels.shape != self.pixels.shape:
            raise AdvkitError(f"new pixels must have the image's shape {tuple(self.pixels.shape)}; got {tuple(pixels.shape)}")
        return replace(self, pixels=pixels.detach().float().clamp(0, 1).cpu(), notes=[])


@contextmanager
def _opened(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """``path`` opened by PIL, its size checked; PIL's errors in the block become one-line AdvkitErrors."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise AdvkitError(f"{path} is {width}x{height} = {width * height / 1e6:.0f} Mpixels, above the "
                                  f"{max_pixels / 1e6:.0f} Mpixel limit; downscale it first")
            yield img
    except AdvkitError:
        raise
    except UnidentifiedImageError:
        raise AdvkitError(f"{path} is not an image PIL can read (wrong extension or corrupt file); pass a PNG or JPEG") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise AdvkitError(f"{path} is truncated or corrupt ({str(e).splitlines()[0][:80]}); re-export the image") from None


def _check_path(path: Path) -> None:
    if not path.exists():
        raise AdvkitError(f"image {path} does not exist; check the path")
    if path.is_dir():
        raise AdvkitError(f"{path} is a directory; pass image files (PNG/JPEG), e.g. {path}/*.png")


def _read_tiff(path: Path, max_pixels: int) -> tuple[np.ndarray, int, list[str]]:
    """(array [H, W] or [H, W, C] scaled to [0, 1], bit depth, notes) of a TIFF, via tifffile (16-bit colour too)."""
    import tifffile

    try:
        array = tifffile.imread(path)
    except Exception as e:  # noqa: BLE001 - tifffile raises many kinds for a bad file
        raise AdvkitError(f"{path} is not a TIFF tifffile can read ({str(e).splitlines()[0][:80]}); re-export it") from None
    if array.ndim == 3 and array.shape[0] in (1, 2, 3, 4) and array.shape[-1] not in (1, 2, 3, 4):
        array = np.moveaxis(array, 0, -1)  # planar (separate) channels first
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 2, 3, 4)):
        raise AdvkitError(f"{path} holds an array of shape {array.shape}, not one grey/colour image; save one page")
    if array.shape[0] * array.shape[1] > max_pixels:
        raise AdvkitError(f"{path} is {array.shape[1]}x{array.shape[0]}, above the {max_pixels / 1e6:.0f} Mpixel "
                          "limit; downscale it first")
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0, 16, []
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0, 8, []
    raise AdvkitError(f"{path} stores {array.dtype} samples; save it as 8- or 16-bit unsigned integers")


def _read_pil(path: Path, max_pixels: int) -> tuple[np.ndarray, int, list[str]]:
    notes: list[str] = []
    with _opened(path, max_pixels) as img:
        tile = getattr(img, "tile", None) or []
        rawmode = str(tile[0].args) if tile else ""  # e.g. RGB;16B: a 48-bit PNG, decoded to 8 bits
        img.load()  # decodes now, so a truncated file fails here and not later
        orientation = img.getexif().get(0x0112, 1)  # EXIF Orientation
        if orientation not in (1, None):
            img = ImageOps.exif_transpose(img)
            notes.append(f"EXIF orientation {orientation} applied (the pixels are turned as viewers show them; "
                         "the written file has no orientation tag)")
        mode = img.mode
        if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
            return np.asarray(img, dtype=np.float32) / 65535.0, 16, notes
        if mode == "I":
            array = np.asarray(img, dtype=np.int64)
            if array.min() < 0 or array.max() > 65535:
                raise AdvkitError(f"{path} holds 32-bit integers outside 0..65535; save it as an 8- or 16-bit image")
            return array.astype(np.float32) / 65535.0, 16, notes
        if mode == "F":
            raise AdvkitError(f"{path} holds floating-point samples of unknown range; save it as an 8- or 16-bit image")
        if mode == "1":
            notes.append("1-bit image read as 8-bit grey")
            img = img.convert("L")
        elif mode == "P":
            transparent = "transparency" in img.info
            notes.append("palette image converted to " + ("RGBA" if transparent else "RGB"))
            img = img.convert("RGBA" if transparent else "RGB")
        elif mode == "La":
            img = img.convert("LA")
        elif mode in _CONVERT_TO_RGB:
            notes.append(f"{mode} image converted to RGB")
            img = img.convert("RGB")
        elif mode not in ("L", "LA", "RGB", "RGBA"):
            raise AdvkitError(f"{path} has image mode {mode}, which advkit cannot denoise; save it as RGB or grey PNG")
        if img.mode in ("RGB", "RGBA") and ";16" in rawmode:
            notes.append("16-bit colour PNG read at 8 bits (Pillow decodes 48/64-bit PNG to 8 bits); it is "
                         "written back at 8 bits: save it as 16-bit TIFF to keep the depth")
        return np.asarray(img, dtype=np.float32) / 255.0, 8, notes


def read_image(path: str | Path, max_pixels: int = MAX_PIXELS, warn: bool = True) -> ImageData:
    """Decode an image keeping its mode and bit depth (module docstring); ``warn``: issue the notes as warnings."""
    path = Path(path)
    _check_path(path)
    reader = _read_tiff if path.suffix.lower() in TIFF_SUFFIXES else _read_pil
    array, depth, notes = reader(path, max_pixels)
    if array.ndim == 2:
        array = array[..., None]
    channels = array.shape[-1]
    pixels, alpha = (array[..., :-1], array[..., -1:]) if channels in (2, 4) else (array, None)
    if alpha is not None:
        notes.append("alpha channel set aside: the " + ("grey" if pixels.shape[-1] == 1 else "colour") +
                     " values are denoised and the alpha re-attached unchanged")
    as_chw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))  # noqa: E731
    image = ImageData(as_chw(pixels), None if alpha is None else as_chw(alpha), depth, notes)
    if warn:
        for note in notes:
            warnings.warn(f"{path}: {note}", ImageConversionWarning, stacklevel=2)
    return image


def _quantize(array: np.ndarray, scale: float, dtype) -> np.ndarray:
    """``round(array * scale)`` as ``dtype``, computed in place in ``array`` (a copy of the pixels) instead of
    in two more float copies of the image."""
    np.multiply(array, scale, out=array)
    return np.round(array, out=array).astype(dtype)


def write_image(path: str | Path, image: ImageData) -> list[str]:
    """Write ``image`` in its own mode and bit depth (PNG/TIFF; JPEG and others at 8 bits, no alpha).

    Returns notes on what could not be kept (e.g. 16-bit colour as PNG is written as 16-bit TIFF only).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise AdvkitError(f"cannot write {path}: use one of {', '.join(sorted(IMAGE_SUFFIXES))}")
    planes = image.pixels.clamp(0, 1) if image.alpha is None else torch.cat([image.pixels, image.alpha]).clamp_(0, 1)
    array = planes.permute(1, 2, 0).numpy()  # the one float copy made here (a 24 MP photo: 288 MB); quantized in place
    notes: list[str] = []
    depth = image.bit_depth
    if suffix in TIFF_SUFFIXES:
        import tifffile

        scale, dtype = (65535.0, np.uint16) if depth == 16 else (255.0, np.uint8)
        out = _quantize(array, scale, dtype)
        tifffile.imwrite(path, out[..., 0] if out.shape[-1] == 1 else out,
                         photometric="minisblack" if image.grey else "rgb",
                         extrasamples=["unassalpha"] if image.alpha is not None else None)
        return notes
    if depth == 16 and (not image.grey or image.alpha is not None):
        notes.append(f"{path.name}: Pillow writes 16-bit PNG for grey without alpha only; written at 8 bits "
                     "(write a .tif to keep 16 bits)")
        depth = 8
    if depth == 16 and suffix != ".png":
        notes.append(f"{path.name}: {suffix} holds 8 bits; written at 8 bits (write a .png or .tif to keep 16 bits)")
        depth = 8
    if depth == 16:
        Image.fromarray(_quantize(array[..., 0], 65535.0, np.uint16)).save(path)  # mode I;16
        return notes
    out = _quantize(array, 255.0, np.uint8)
    if suffix in (".jpg", ".jpeg") and image.alpha is not None:
        notes.append(f"{path.name}: JPEG has no alpha; alpha dropped (write a .png to keep it)")
        out = out[..., :-1]
    Image.fromarray(out[..., 0] if out.shape[-1] == 1 else out).save(path)  # L, LA, RGB or RGBA by shape
    return notes
