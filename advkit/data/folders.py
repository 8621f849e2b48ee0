"""Image folders (PNG/JPEG) and STL-10 as training data: random crops with flips, held as one uint8 tensor.

Small natural-image training sets (CBSD432: 432 images, 200 MB as uint8) fit in memory, and on a GPU in
its memory: decoding each file once and drawing a batch of crops with one gather is much faster than a
DataLoader that re-decodes a JPEG per sample. Used by the denoising trainer (96 px crops, all 8 symmetries
of the square) and the GAN trainer on image folders (64 px crops, horizontal flips only: a GAN must not
learn upside-down photos).

Images of different sizes share one zero-padded stack and keep their own size: every crop lies inside its
image, nothing is cut away. When transposition is among the augmentations (``symmetries="dihedral"``)
portrait images are stored turned landscape, which keeps the padding small for a mixed folder. The stack
lives on the device the batches are for when it takes at most a quarter of that GPU's free memory, and in
pinned host memory otherwise (:func:`advkit.runtime.amp.choose_placement`).

    >>> crops = ImageCrops.from_folder(denoise_set("CBSD432"), crop=96)     # advkit.data.paths.denoise_set
    >>> batch = crops.sample(16, generator=torch.Generator().manual_seed(0))   # float [16, 3, 96, 96] in [0, 1]
"""

from __future__ import annotations

from pathlib import Path

import torch

from advkit.data.images import list_images, load_image_uint8
from advkit.errors import AdvkitError
from advkit.runtime.amp import choose_placement

SYMMETRIES = ("dihedral", "hflip", "none")  # all 8 of the square | left-right mirror | none


class ImageCrops:
    """Random ``crop`` x ``crop`` patches of a set of uint8 ``[C, H, W]`` images, delivered as float [0, 1]
    batches on ``device``; ``names`` (file names) only make error messages precise."""

    def __init__(self, images: list[torch.Tensor] | torch.Tensor, crop: int, device: torch.device | str = "cpu",
                 symmetries: str = "dihedral", source: str = "image folder", names: list[str] | None = None):
        if symmetries not in SYMMETRIES:
            raise AdvkitError(f"symmetries must be one of {', '.join(SYMMETRIES)}; got {symmetries!r}")
        if len(images) == 0:
            raise AdvkitError(f"{source}: no images to crop from; pass a folder of PNG/JPEG images")
        if isinstance(images, torch.Tensor):  # one [N, C, H, W] stack already (STL-10): used as is, not copied
            sizes = torch.tensor(images.shape[2:]).expand(len(images), 2)
        else:
            sizes = torch.tensor([im.shape[1:] for im in images])  # [N, 2]: each image's own (H, W)
        too_small = (sizes.amin(1) < crop).nonzero()
        if len(too_small):
            i = int(too_small[0])
            name = names[i] if names else f"image {i}"
            raise AdvkitError(f"{name} is {int(sizes[i, 1])}x{int(sizes[i, 0])}, smaller than the {crop}px crop; pass a "
                              "smaller --crop or remove the image")
        if isinstance(images, torch.Tensor):
            stack = images
        else:
            if symmetries == "dihedral":  # portrait images stored turned landscape
                portrait = sizes[:, 0] > sizes[:, 1]
                images = [im.transpose(1, 2) if turn else im for im, turn in zip(images, portrait.tolist())]
                sizes = torch.where(portrait[:, None], sizes.flip(1), sizes)
            h, w = sizes.max(0).values.tolist()
            stack = torch.zeros(len(images), images[0].shape[0], h, w, dtype=torch.uint8)
            for i, im in enumerate(images):
                stack[i, :, :im.shape[1], :im.shape[2]] = im
        self.sizes = sizes
        self.device = torch.device(device)
        self.stack = _place(stack, self.device)  # [N, C, H_max, W_max] uint8
        self.crop, self.symmetries = crop, symmetries
        self.source = f"{source}: {len(images)} images, random {crop}px crops" + (
            "" if symmetries == "none" else f" + {'flips' if symmetries == 'dihedral' else 'mirror images'}")
        self.offsets = torch.arange(crop, device=self.stack.device)

    @classmethod
    def from_folder(cls, folder: str | Path, crop: int = 96, device: torch.device | str = "cpu",
                    symmetries: str = "dihedral", mode: str = "RGB", limit: int | None = None) -> "ImageCrops":
        files = list_images(folder)[:limit]  # refuses a missing or empty folder
        images = [load_image_uint8(f, mode) for f in files]
        return cls(images, crop, device, symmetries, Path(folder).name, [f.name for f in files])

    @classmethod
    def from_stl10(cls, crop: int = 96, device: torch.device | str = "cpu", symmetries: str = "dihedral") -> "ImageCrops":
        """STL-10's labelled train split, plus the 100k unlabeled images when they were fetched, read as the
        uint8 they are stored as (as float the unlabeled split alone would take 11 GB)."""
        from advkit.data.paths import data_root
        from advkit.data.stl10 import read_stl10_images

        folder = data_root() / "stl10_binary"
        splits = ["train"] + (["unlabeled"] if (folder / "unlabeled_X.bin").exists() else [])
        stack = torch.cat([read_stl10_images(folder / f"{s}_X.bin") for s in splits])
        return cls(stack, crop, device, symmetries, "STL-10 " + "+".join(splits))

    def __len__(self) -> int:
        return len(self.stack)

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[B, C, crop, crop] float crops in [0, 1] on ``device``; image, position and flips drawn from the CPU
        ``generator`` (so a seed gives the same batches on every device)."""
        idx = torch.randint(len(self.stack), (batch_size,), generator=generator)
        room = self.sizes[idx] - self.crop + 1  # [B, 2]: how many positions fit in each picked image
        top, left = (torch.rand(batch_size, 2, generator=generator) * room).long().unbind(1)
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
        return patches.to(self.device, non_blocking=True).float().div_(255)


def _place(stack: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The stack on ``device`` when it fits a quarter of the free GPU memory, else pinned on the host."""
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None
    where = choose_placement(stack.nbytes, device.type, free)
    if where == "device":
        return stack.to(device)
    return stack.pin_memory() if where == "pinned" else stack
