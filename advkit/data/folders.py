"""Image folders (PNG/JPEG) and STL-10 as training data: random crops with flips, held as one uint8 tensor.

Small natural-image training sets (CBSD432: 432 images, 200 MB as uint8) fit in memory, and on a GPU in
its memory: decoding each file once and drawing a batch of crops with one gather is much faster than a
DataLoader that re-decodes a JPEG per sample. Used by the denoising trainer (96 px crops, all 8 symmetries
of the square) and the GAN trainer on image folders (64 px crops, horizontal flips only: a GAN must not
learn upside-down photos).

Images are stacked at one common size: portrait images are first turned landscape when transposition is
among the augmentations (``symmetries="dihedral"``), then every image is centre-cropped to the smallest
height and width in the set (CBSD432, all 481x321 once turned, loses nothing).

    >>> crops = ImageCrops.from_folder("../shared/data/denoise/CBSD432", crop=96)
    >>> batch = crops.sample(16, generator=torch.Generator().manual_seed(0))   # float [16, 3, 96, 96] in [0, 1]
"""

from __future__ import annotations

from pathlib import Path

import torch

from advkit.data.images import list_images, load_image_uint8
from advkit.errors import AdvkitError

SYMMETRIES = ("dihedral", "hflip", "none")  # all 8 of the square | left-right mirror | none


def _centre_crop(image: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top, left = (image.shape[1] - h) // 2, (image.shape[2] - w) // 2
    return image[:, top:top + h, left:left + w]


class ImageCrops:
    def __init__(self, images: list[torch.Tensor], crop: int, device: torch.device | str = "cpu",
                 symmetries: str = "dihedral", source: str = "image folder"):
        if symmetries not in SYMMETRIES:
            raise AdvkitError(f"symmetries must be one of {', '.join(SYMMETRIES)}; got {symmetries!r}")
        if not images:
            raise AdvkitError(f"{source}: no images to crop from; pass a folder of PNG/JPEG images")
        if symmetries == "dihedral":
            images = [im.transpose(1, 2) if im.shape[1] > im.shape[2] else im for im in images]
        h, w = min(im.shape[1] for im in images), min(im.shape[2] for im in images)
        if min(h, w) < crop:
            raise AdvkitError(f"the training images must be at least {crop}px on each side (smallest here: {h}x{w}); "
                              "pass a smaller --crop")
        self.stack = torch.stack([_centre_crop(im, h, w) for im in images]).to(device)  # [N, C, h, w] uint8
        self.crop, self.symmetries = crop, symmetries
        self.source = f"{source}: {len(images)} images, random {crop}px crops" + (
            "" if symmetries == "none" else f" + {'flips' if symmetries == 'dihedral' else 'mirror images'}")
        self.offsets = torch.arange(crop, device=self.stack.device)

    @classmethod
    def from_folder(cls, folder: str | Path, crop: int = 96, device: torch.device | str = "cpu",
                    symmetries: str = "dihedral", mode: str = "RGB", limit: int | None = None) -> "ImageCrops":
        if not Path(folder).is_dir():
            raise AdvkitError(f"{folder}: no such image folder; pass a folder of PNG/JPEG training images")
        images = [load_image_uint8(f, mode) for f in list_images(folder)[:limit]]
        return cls(images, crop, device, symmetries, Path(folder).name)

    @classmethod
    def from_stl10(cls, crop: int = 96, device: torch.device | str = "cpu", symmetries: str = "dihedral") -> "ImageCrops":
        """STL-10's labelled train split, plus the 100k unlabeled images when they were fetched, read as the
        uint8 they are stored as (as float the unlabeled split alone would take 11 GB)."""
        from advkit.data.paths import data_root
        from advkit.data.stl10 import read_stl10_images

        folder = data_root() / "stl10_binary"
        splits = ["train"] + (["unlabeled"] if (folder / "unlabeled_X.bin").exists() else [])
        stack = torch.cat([read_stl10_images(folder / f"{s}_X.bin") for s in splits])
        return cls(list(stack), crop, device, symmetries, "STL-10 " + "+".join(splits))

    def __len__(self) -> int:
        return len(self.stack)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, C, crop, crop] float crops in [0, 1] on the stack's device; positions and flips drawn from the
        CPU ``generator`` (so a seed gives the same batches on every device)."""
        n, _, h, w = self.stack.shape
        idx = torch.randint(n, (batch_size,), generator=generator)
        top = torch.randint(h - self.crop + 1, (batch_size,), generator=generator)
        left = torch.randint(w - self.crop + 1, (batch_size,), generator=generator)
        flips = torch.rand(batch_size, 3, generator=generator) < 0.5  # h-flip, v-flip, transpose
        if self.symmetries != "dihedral":
            flips[:, 1:] = False
        if self.symmetries == "none":
            flips[:, 0] = False
        dev = self.stack.device
        idx, top, left, flips = idx.to(dev), top.to(dev), left.to(dev), flips.to(dev)
        rows = top[:, None] + torch.where(flips[:, 1:2], self.crop - 1 - self.offsets, self.offsets)
        cols = left[:, None] + torch.where(flips[:, 0:1], self.crop - 1 - self.offsets, self.offsets)
        # Advanced indexing: [B, crop, crop, C] gathered in one kernel.
        patches = self.stack.permute(0, 2, 3, 1)[idx[:, None, None], rows[:, :, None], cols[:, None, :]]
        patches = patches.permute(0, 3, 1, 2)
        patches = torch.where(flips[:, 2, None, None, None], patches.transpose(2, 3), patches)
        return patches.float().div_(255)
