"""The data layer on the real offline files, plus the parsers on small files the tests write themselves."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from fixtures_images import make_image_folder

from advkit.data import load_dataset
from advkit.data.idx import read_idx
from advkit.data.images import load_image
from advkit.data.stl10 import read_stl10_images, read_stl10_labels
from advkit.errors import AdvkitError

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_offline_mnist_test_set_is_the_official_one():
    test = load_dataset("mnist", "test", source="offline")
    assert test.images.shape == (10000, 1, 28, 28) and test.images.dtype == torch.float32
    assert 0.0 == test.images.min() and test.images.max() == 1.0
    assert torch.bincount(test.labels, minlength=10).tolist() == MNIST_TEST_COUNTS
    assert test.source == "official 10k MNIST test set"


def test_offline_mnist_train_subset_has_500_per_class():
    train = load_dataset("mnist", "train", source="offline")
    assert train.images.shape == (5000, 1, 28, 28)
    assert torch.bincount(train.labels, minlength=10).tolist() == [500] * 10
    assert "5k" in train.source
    # a digit is mostly background with bright strokes
    assert 0.05 < train.images.mean() < 0.2


def test_batches_cover_the_set_once_and_follow_the_generator():
    data = load_dataset("fake")
    g = torch.Generator().manual_seed(0)
    seen = torch.cat([y for _, y in data.batches(60, shuffle=True, generator=g)])
    assert len(seen) == len(data)
    first = next(data.batches(60, shuffle=True, generator=torch.Generator().manual_seed(0)))[0]
    again = next(data.batches(60, shuffle=True, generator=torch.Generator().manual_seed(0)))[0]
    assert torch.equal(first, again)


def test_fashion_mnist_full_set_when_installed():
    from advkit.data.fashion import debian_files

    if len(debian_files()) < 4:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    test = load_dataset("fashion-mnist", "test")
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [1000] * 10


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_idx_round_trip_and_corruption(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    _write_idx(tmp_path / "b", array)
    (tmp_path / "b").write_bytes((tmp_path / "b").read_bytes()[:-5])
    with pytest.raises(AdvkitError, match="truncated"):
        read_idx(tmp_path / "b")
    (tmp_path / "c").write_bytes(b"\x01\x02\x03")
    with pytest.raises(AdvkitError, match="magic"):
        read_idx(tmp_path / "c")


def test_stl10_binary_is_column_major(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 3, 96, 96), dtype=np.uint8)  # N, C, H, W
    # STL-10 stores each channel transposed (column-major): write (N, C, W, H)
    images.transpose(0, 1, 3, 2).tofile(tmp_path / "train_X.bin")
    np.array([1, 10, 5], dtype=np.uint8).tofile(tmp_path / "train_y.bin")
    loaded = read_stl10_images(tmp_path / "train_X.bin")
    assert loaded.shape == (3, 3, 96, 96) and torch.equal(loaded, torch.from_numpy(images))
    assert read_stl10_labels(tmp_path / "train_y.bin").tolist() == [0, 9, 4]
    (tmp_path / "bad_X.bin").write_bytes(b"\x00" * 1000)
    with pytest.raises(AdvkitError, match="corrupt"):
        read_stl10_images(tmp_path / "bad_X.bin")


def test_image_loading_converts_or_refuses(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "grey.png")
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(tmp_path / "deep.png")
    opaque = np.concatenate([rgb, np.full((5, 7, 1), 255, np.uint8)], axis=2)
    Image.fromarray(opaque, "RGBA").save(tmp_path / "opaque.png")
    see_through = opaque.copy()
    see_through[0, 0, 3] = 0
    Image.fromarray(see_through, "RGBA").save(tmp_path / "alpha.png")
    x = load_image(tmp_path / "rgb.png")
    # one division k / 255 each way, both float32: equal to the last bit (allclose's 1e-8 + 1e-5 relative is spare)
    assert x.shape == (3, 5, 7) and torch.allclose(x, torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
    assert load_image(tmp_path / "grey.png").shape == (3, 5, 7)
    assert load_image(tmp_path / "palette.png").shape == (3, 5, 7)
    # a 16-bit file read back to [0, 1]: k / 65535 against k8 / 255 where k = 257 k8, the same value up to one
    # float32 rounding each (<= 6e-8); 1e-6 bounds it, a wrong bit depth is off by >= 1/255
    assert torch.allclose(load_image(tmp_path / "deep.png")[0], torch.from_numpy(rgb[..., 0]).float() / 255, atol=1e-6)
    assert torch.equal(load_image(tmp_path / "opaque.png"), x)
    (tmp_path / "text.png").write_text("not an image")
    jpeg = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(jpeg)
    (tmp_path / "cut.jpg").write_bytes(jpeg.read_bytes()[:300])
    for path, message in [(tmp_path / "alpha.png", "transparent"), (tmp_path / "text.png", "not an image"),
                          (tmp_path / "cut.jpg", "truncated"), (tmp_path / "nope.png", "does not exist"),
                          (tmp_path, "is a directory")]:
        with pytest.raises(AdvkitError, match=message):
            load_image(path)
    with pytest.raises(AdvkitError, match="Mpixel limit"):
        load_image(tmp_path / "rgb.png", max_pixels=10)


def test_image_crops_from_a_folder_of_photos(tmp_path):
    """A folder of real photo crops (scikit-image samples, portrait and landscape): every crop is a window of
    one of its images, and the generator fixes the batch."""
    from advkit.data.folders import ImageCrops

    folder = make_image_folder(tmp_path / "train", n=4, size=(120, 100))
    crops = ImageCrops.from_folder(folder, crop=96, limit=3)
    a = crops.sample(5, generator=torch.Generator().manual_seed(0))
    b = crops.sample(5, generator=torch.Generator().manual_seed(0))
    assert a.shape == (5, 3, 96, 96) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    assert len(crops) == 3 and crops.source.startswith("train: 3 images")
    photos = [load_image(p) for p in sorted(folder.iterdir())[:3]]
    windows = [p.unfold(1, 96, 1).unfold(2, 96, 1) for p in photos]  # [3, H-95, W-95, 96, 96]: every 96px window

    def is_window(crop):
        return any((w == crop[:, None, None]).flatten(3).all(-1).all(0).any() for w in windows)

    for crop in crops.sample(4, generator=torch.Generator().manual_seed(1)):
        variants = [crop, crop.flip(1), crop.flip(2), crop.flip(1).flip(2)]
        assert any(is_window(v) for v in variants + [v.transpose(1, 2) for v in variants])  # 8 symmetries
    assert not is_window(torch.rand(3, 96, 96))  # (the check can fail)


def test_image_crops_symmetries_flip_only_what_they_say():
    """A GAN's crops are mirrored left-right but never turned upside down; the denoiser's use all 8 symmetries."""
    from advkit.data.folders import ImageCrops

    rows = torch.arange(40, dtype=torch.uint8)[:, None].expand(40, 50)  # brightness grows downwards
    image = torch.stack([rows, rows, rows]).clone()  # [3, 40, 50]
    image[1] = torch.arange(50, dtype=torch.uint8)[None, :].expand(40, 50)  # channel 1 grows rightwards
    g = torch.Generator().manual_seed(0)

    def down(batch):  # per crop: does channel 0 grow downwards?
        return batch[:, 0, -1, 0] > batch[:, 0, 0, 0]

    def right(batch):  # per crop: does channel 1 grow rightwards?
        return batch[:, 1, 0, -1] > batch[:, 1, 0, 0]

    none = ImageCrops([image], crop=16, symmetries="none").sample(64, g)
    assert down(none).all() and right(none).all()
    mirror = ImageCrops([image], crop=16, symmetries="hflip").sample(64, g)
    assert down(mirror).all() and 0 < right(mirror).sum() < 64
    every = ImageCrops([image], crop=16, symmetries="dihedral").sample(256, g)
    assert 0 < down(every).sum() < 256 and 0 < right(every).sum() < 256
    with pytest.raises(AdvkitError, match="symmetries"):
        ImageCrops([image], crop=16, symmetries="rotate")


@pytest.mark.parametrize("symmetries", ["hflip", "dihedral"])
def test_image_crops_of_mixed_sizes_stay_inside_their_image(symmetries):
    """A folder mixing portrait, landscape and small images: every crop lies inside its own image (the
    stack's zero padding never shows) and every image, whatever its size, is drawn from."""
    from advkit.data.folders import ImageCrops

    images = [torch.full((3, h, w), i + 1, dtype=torch.uint8) for i, (h, w) in
              enumerate([(50, 30), (30, 50), (20, 20), (64, 17)])]
    crops = ImageCrops(images, crop=16, symmetries=symmetries)
    batch = crops.sample(400, torch.Generator().manual_seed(0))
    assert batch.min() > 0  # no padding
    per_crop = (batch * 255).round().amin(dim=(1, 2, 3))
    assert torch.equal(per_crop, (batch * 255).round().amax(dim=(1, 2, 3)))  # one image per crop
    assert set(per_crop.long().tolist()) == {1, 2, 3, 4}
    with pytest.raises(AdvkitError, match="smaller than the 24px crop"):
        ImageCrops(images, crop=24, names=["a", "b", "c.png", "d"])
