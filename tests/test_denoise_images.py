"""read_image / write_image: grey stays grey, 16 bits stay 16, alpha is kept, EXIF rotation, notes on conversion."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from advkit.data.images import ImageConversionWarning, read_image, write_image
from advkit.errors import AdvkitError


def roundtrip(tmp_path, array: np.ndarray, name: str, out_name: str | None = None):
    src = tmp_path / name
    if name.endswith((".tif", ".tiff")):
        import tifffile

        tifffile.imwrite(src, array, photometric="rgb" if array.ndim == 3 and array.shape[-1] >= 3 else "minisblack")
    else:
        Image.fromarray(array).save(src)
    image = read_image(src)
    dst = tmp_path / (out_name or "out-" + name)
    notes = write_image(dst, image)
    return image, dst, notes


def test_grey_8bit_png_stays_grey_and_roundtrips_exactly(tmp_path):
    camera = skdata.camera()
    image, dst, notes = roundtrip(tmp_path, camera, "camera.png")
    assert image.pixels.shape == (1, *camera.shape) and image.mode == "L" and image.bit_depth == 8
    assert image.notes == [] and notes == []
    assert Image.open(dst).mode == "L" and np.array_equal(np.asarray(Image.open(dst)), camera)


def test_16bit_grey_png_keeps_its_16_bits(tmp_path):
    camera16 = skdata.camera().astype(np.uint16) * 257 + np.arange(512, dtype=np.uint16)[None, :] % 200
    image, dst, _ = roundtrip(tmp_path, camera16, "camera16.png")
    assert image.bit_depth == 16 and image.grey
    # finer than 8 bits: values that differ by less than one 8-bit step are still distinct
    assert len(np.unique(image.pixels.numpy())) > 256
    assert np.array_equal(np.asarray(Image.open(dst)), camera16)


def test_rgba_alpha_is_set_aside_and_reattached_with_a_note(tmp_path):
    astronaut = skdata.astronaut()[:128, :96]
    alpha = np.tile(np.linspace(0, 255, 96).astype(np.uint8), (128, 1))
    rgba = np.dstack([astronaut, alpha])
    with pytest.warns(ImageConversionWarning, match="alpha"):
        image, dst, _ = roundtrip(tmp_path, rgba, "astronaut.png")
    assert image.pixels.shape == (3, 128, 96) and image.alpha.shape == (1, 128, 96) and image.mode == "RGBA"
    assert np.array_equal(np.asarray(Image.open(dst)), rgba)
    # the colour replaced (e.g. denoised), alpha unchanged
    darker = image.with_pixels(image.pixels * 0.5)
    write_image(tmp_path / "darker.png", darker)
    back = np.asarray(Image.open(tmp_path / "darker.png"))
    assert np.array_equal(back[..., 3], alpha) and back[..., :3].max() <= 128


def test_grey_with_alpha_roundtrips(tmp_path):
    la = np.dstack([skdata.camera()[:64, :80], np.full((64, 80), 200, np.uint8)])
    with pytest.warns(ImageConversionWarning, match="grey values are denoised"):
        image, dst, _ = roundtrip(tmp_path, la, "la.png")
    assert image.mode == "LA" and image.grey
    assert np.array_equal(np.asarray(Image.open(dst)), la)


def test_16bit_colour_tiff_keeps_its_16_bits(tmp_path):
    import tifffile

    rgb16 = skdata.astronaut()[:64, :64].astype(np.uint16) * 257 + 3
    image, dst, notes = roundtrip(tmp_path, rgb16, "astronaut16.tif")
    assert image.bit_depth == 16 and image.mode == "RGB" and notes == []
    assert np.array_equal(tifffile.imread(dst), rgb16)


def test_16bit_grey_to_jpeg_is_written_at_8_bits_with_a_note(tmp_path):
    Image.fromarray(skdata.camera().astype(np.uint16) * 257).save(tmp_path / "c16.png")
    notes = write_image(tmp_path / "c.jpg", read_image(tmp_path / "c16.png"))
    assert any("8 bits" in n for n in notes) and Image.open(tmp_path / "c.jpg").mode == "L"


def test_exif_orientation_is_applied_with_a_warning(tmp_path):
    photo = Image.fromarray(skdata.astronaut()[:40, :60])  # 60 wide, 40 high
    exif = photo.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    photo.save(tmp_path / "rotated.jpg", exif=exif)
    with pytest.warns(ImageConversionWarning, match="EXIF orientation 6"):
        image = read_image(tmp_path / "rotated.jpg")
    assert image.pixels.shape == (3, 60, 40)  # turned as a viewer shows it


def test_palette_image_is_converted_with_a_note(tmp_path):
    Image.fromarray(skdata.astronaut()[:32, :32]).convert("P").save(tmp_path / "p.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = read_image(tmp_path / "p.png")
    assert image.mode == "RGB" and any("palette" in n for n in image.notes)
    assert any(issubclass(w.category, ImageConversionWarning) for w in caught)


def test_bad_inputs_are_one_line_errors(tmp_path):
    (tmp_path / "not.png").write_text("hello")
    with pytest.raises(AdvkitError, match="not an image"):
        read_image(tmp_path / "not.png")
    with pytest.raises(AdvkitError, match="does not exist"):
        read_image(tmp_path / "missing.png")
    image = read_image_from_array(tmp_path)
    with pytest.raises(AdvkitError, match="shape"):
        image.with_pixels(torch.zeros(3, 2, 2))


def read_image_from_array(tmp_path):
    Image.fromarray(skdata.camera()[:16, :16]).save(tmp_path / "small.png")
    return read_image(tmp_path / "small.png")
