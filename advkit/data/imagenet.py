"""ImageNet validation images (ILSVRC 2012) from a local folder, with the standard evaluation preprocessing
(resize the short side to 256, centre crop 224; bilinear, antialiased, as torchvision and RobustBench do).

``PATH`` is the val folder in ImageFolder layout, one folder per class named by its WordNet id
(``PATH/n01440764/ILSVRC2012_val_00000293.JPEG``; ``PATH/val/...`` is accepted too). The label of an image is
ImageNet's class index of its folder (the 1,000 wnids sorted: ``advkit/data/manifests/imagenet-classes.json``),
not its rank among the folders present, so a partial copy still scores a 1,000-class model correctly.

Subsets (``subset``):

* ``None``: every image, folders sorted and files sorted within each (torchvision's ImageFolder order);
* ``"robustbench"``: RobustBench's fixed 5,000-image list (Croce et al. 2021, shipped as
  ``advkit/data/manifests/imagenet-robustbench-5000.txt``, MIT, from the robustbench wheel), in its order;
* a path to a text file in the same format: one ``wnid/filename`` per line, relative to ``PATH``, in evaluation
  order (blank lines and ``#`` comments ignored).

Only the chosen images are decoded, so a subset of the 50,000 costs its own size.

    >>> samples = imagenet_samples("~/imagenet/val", subset="robustbench")     # [(path, label)] x 5000
    >>> x, y = load_samples(samples[:100])                                       # [100, 3, 224, 224], [100]
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from advkit.data.fetch import MANIFESTS
from advkit.errors import AdvkitError

ROBUSTBENCH_LIST = MANIFESTS / "imagenet-robustbench-5000.txt"
RESIZE, CROP = 256, 224


def imagenet_classes() -> dict[str, int]:
    """wnid -> ImageNet class index (0..999)."""
    return json.loads((MANIFESTS / "imagenet-classes.json").read_text())


def val_folder(path: str | Path) -> Path:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise AdvkitError(f"imagenet:{path}: no such folder; pass the ImageNet val folder (one sub-folder per wnid)")
    if (root / "val").is_dir() and not any(p.name.startswith("n") and p.is_dir() for p in root.iterdir()):
        root = root / "val"
    return root


def read_list(path: Path) -> list[str]:
    """The ``wnid/filename`` lines of a subset file (format in the module docstring)."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise AdvkitError(f"cannot read the subset list {path} ({e}); pass a text file of wnid/filename lines") from None
    entries = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    bad = [e for e in entries if e.count("/") != 1 or e.startswith("/")]
    if bad or not entries:
        raise AdvkitError(f"subset list {path}: {'no entries' if not entries else f'line {bad[0]!r}'}: each line must "
                          "be wnid/filename, relative to the val folder")
    return entries


def imagenet_samples(path: str | Path, subset: str | Path | None = None) -> list[tuple[Path, int]]:
    """``[(image path, ImageNet label)]`` of the val folder, all of it or the subset (see the module docstring)."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    root, classes = val_folder(path), imagenet_classes()
    if subset is not None:
        entries = read_list(ROBUSTBENCH_LIST if subset == "robustbench" else Path(subset))
        unknown = [e for e in entries if e.split("/")[0] not in classes]
        if unknown:
            raise AdvkitError(f"subset list entry {unknown[0]!r} is not under an ImageNet wnid folder")
        missing = [e for e in entries if not (root / e).is_file()]
        if missing:
            raise AdvkitError(f"imagenet:{path} lacks {len(missing)} of the subset's {len(entries)} images (e.g. "
                              f"{missing[0]}); pass the complete ILSVRC2012 val folder in wnid sub-folders")
        return [(root / e, classes[e.split("/")[0]]) for e in entries]
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    foreign = [p.name for p in folders if p.name not in classes]
    if foreign or not folders:
        raise AdvkitError(f"imagenet:{path}: {'no class folders' if not folders else f'folder {foreign[0]!r} is not an ImageNet wnid'}"
                          "; imagenet:PATH wants the val folder with one n######## folder per class (for another "
                          "image folder pass it as --data PATH)")
    samples = [(f, classes[d.name]) for d in folders for f in sorted(d.iterdir())
               if f.is_file() and f.suffix.lower() in IMG_EXTENSIONS]
    if not samples:
        raise AdvkitError(f"imagenet:{path} holds no images")
    return samples


def load_samples(samples: list[tuple[Path, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode, resize 256, centre crop 224: ``(x [N, 3, 224, 224] in [0, 1], y [N])``."""
    from torchvision import transforms
    from torchvision.datasets.folder import pil_loader

    transform = transforms.Compose([transforms.Resize(RESIZE), transforms.CenterCrop(CROP), transforms.ToTensor()])
    images = []
    for file, _ in samples:
        try:
            images.append(transform(pil_loader(str(file))))
        except OSError as e:  # truncated or not an image
            raise AdvkitError(f"{file} is not a readable image ({str(e)[:80]}); replace or remove it") from None
    return torch.stack(images), torch.tensor([label for _, label in samples], dtype=torch.long)
