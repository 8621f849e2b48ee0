"""What a robustness evaluation runs on: a model spec and a data spec, each one string, checked on the way in.

The model spec is :func:`advkit.models.loader.load_model`'s (one grammar for every command). Data specs (:func:`load_data`): ``mnist`` / ``fashion-mnist`` / ``cifar10`` /
``cifar100`` (test splits; CIFAR via ``advkit data fetch``), ``NAME:heldout:N`` (the training images of NAME that
``advtrain --train-size N`` leaves out: a validation split, for choosing a recipe without the test set), ``imagenet:PATH`` (an ImageNet val folder, resized 256
and centre-cropped 224: :mod:`advkit.data.imagenet`), an
image folder in torchvision ImageFolder layout (``root/<class>/<image>``), or a ``.pt`` / ``.npz`` file holding
``x`` ``[N, C, H, W]`` (or ``[N, H, W]``) floats in [0, 1] or uint8, and integer labels ``y`` ``[N]``.

    >>> x, y = load_data("mnist", n=1000, seed=0)
    >>> check_pair(model, x, y)          # shapes, label range and value range, or one-line AdvkitErrors
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from advkit.errors import AdvkitError

NAMED_DATA = ("mnist", "fashion-mnist", "cifar10", "cifar100")
SUBSETS = ("random", "first", "robustbench")  # how --n picks its points (load_data)


# ---------------------------------------------------------------------------------------------- data
def load_data(spec: str, n: int | None = None, seed: int = 0, subset: str = "random") -> tuple[torch.Tensor, torch.Tensor]:
    """``(x [N, C, H, W] float32 in [0, 1], y [N] int64)``; ``n`` points of it (None/0: all) chosen by ``subset``
    (:data:`SUBSETS`, :func:`subset_description`)."""
    x, y, _ = load_points(spec, n, seed, subset)
    return x, y


def load_points(spec: str, n: int | None = None, seed: int = 0, subset: str = "random"
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`load_data`'s points and each one's index in the whole data set, the seed of its random draws (eval
    robustness, certify): the same point gets the same index whatever --n, --subset random or first. With an
    ImageNet list (``--subset robustbench`` or a list file) the index is the position in that list instead."""
    if subset not in SUBSETS and not (spec.startswith("imagenet:") and Path(subset).is_file()):
        raise AdvkitError(f"--subset must be one of {', '.join(SUBSETS)} (or, with imagenet:PATH, a list file); got {subset!r}")
    if n is not None and n < 0:
        raise AdvkitError(f"--n must be >= 0 (0: every example); got {n}")
    if spec.startswith("imagenet:"):
        from advkit.data.imagenet import imagenet_samples, load_samples

        listed = subset not in ("random", "first")
        samples = imagenet_samples(spec.split(":", 1)[1], subset if listed else None)
        keep = subset_indices(len(samples), n, seed, "first" if listed else subset)
        return (*_checked(*load_samples([samples[i] for i in keep.tolist()]), spec), keep)
    origin = None  # each row's index in the data set the points come from, when not its row number
    if spec in NAMED_DATA:
        from advkit.data import load_dataset

        data = load_dataset(spec, "test")
        x, y = data.images, data.labels
    elif spec.split(":")[0] in NAMED_DATA and ":heldout:" in spec:
        x, y, origin = _heldout(spec)  # a point's index in the training split seeds its draws
    else:
        path = Path(spec)
        if path.is_dir():
            x, y = _image_folder(path)
        elif path.suffix in (".pt", ".npz"):
            x, y = _tensor_file(path)
        elif path.exists():
            raise AdvkitError(f"--data {spec}: unsupported file type {path.suffix!r}; pass a .pt or .npz file holding x and y")
        else:
            raise AdvkitError(f"--data {spec!r} is neither {', '.join(NAMED_DATA)}, imagenet:PATH, an image folder, "
                              "nor an existing .pt/.npz file")
    x, y = _checked(x, y, spec)
    keep = subset_indices(x.shape[0], n, seed, "first" if subset == "robustbench" else subset)
    index = keep if origin is None else origin[keep]
    return (x[keep], y[keep], index) if keep.shape[0] < x.shape[0] else (x, y, index)


def _heldout(spec: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``NAME:heldout:N``: (images, labels, their indices in NAME's training split), the images that ``advtrain
    --train-size N`` does not train on (:func:`advkit.data.tensors.training_subset`)."""
    from advkit.data import load_dataset
    from advkit.data.tensors import training_subset

    name, _, size = spec.split(":", 2)
    train = load_dataset(name, "train")
    if not size.isdigit() or not 0 < int(size) < len(train):
        raise AdvkitError(f"--data {spec}: N in {name}:heldout:N is the --train-size the model was trained with, a "
                          f"whole number between 1 and {len(train) - 1} ({name}'s training split has {len(train)} images)")
    _, held = training_subset(len(train), int(size))
    return train.images[held], train.labels[held], held


def subset_indices(total: int, n: int | None, seed: int = 0, subset: str = "random") -> torch.Tensor:
    """Indices of the points evaluated: the first n, or n drawn by ``torch.randperm(total, seed)`` (all: in order)."""
    if not n or n >= total:
        return torch.arange(total)
    if subset == "first":
        return torch.arange(n)
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n]


def subset_description(spec: str, n: int | None, seed: int, subset: str, evaluated: int) -> str:
    """Which ``evaluated`` points an evaluation of ``--data spec --n n --subset subset`` used (report.md)."""
    if subset == "robustbench" and spec.startswith("imagenet:"):
        return f"the first {evaluated} of RobustBench's fixed 5,000-image ImageNet subset"
    if subset not in SUBSETS:
        return f"the first {evaluated} images of the list {Path(subset).name}"
    points = "held-out training points (validation)" if ":heldout:" in spec else "test points"
    if not n or n > evaluated:
        return f"all {evaluated} {points}"
    if subset == "random":
        return f"{evaluated} {points} drawn by torch.randperm with seed {seed}"
    return f"the first {evaluated} {points}" + (" (RobustBench's protocol)" if subset == "robustbench" else "")


def _image_folder(root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import ImageFolder
    from torchvision.transforms import ToTensor

    try:
        folder = ImageFolder(str(root), transform=ToTensor())
    except (FileNotFoundError, RuntimeError) as e:
        raise AdvkitError(f"--data {root}: not an ImageFolder layout (root/<class>/<image>): {str(e).splitlines()[0][:120]}") from None
    images = [folder[i][0] for i in range(len(folder))]
    sizes = {tuple(t.shape) for t in images}
    if len(sizes) > 1:
        raise AdvkitError(f"--data {root}: images differ in size ({', '.join(map(str, sorted(sizes)[:3]))}); resize them to one size")
    return torch.stack(images), torch.tensor(folder.targets, dtype=torch.long)


def _tensor_file(path: Path) -> tuple[object, object]:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                content = {key: archive[key] for key in archive.files}
        else:
            content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - a trust boundary: any failure to parse is a bad file
        raise AdvkitError(f"--data {path} is not a readable {path.suffix} file ({str(e).strip().splitlines()[0][:100]})") from None
    if not isinstance(content, dict) or "x" not in content or "y" not in content:
        raise AdvkitError(f"--data {path} must hold a mapping with keys 'x' (images) and 'y' (labels)")
    return content["x"], content["y"]


def _checked(x, y, spec: str) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    if x.dtype == torch.uint8:
        x = x.float() / 255  # 8-bit images: the usual encoding of [0, 1]
    if not x.is_floating_point():
        raise AdvkitError(f"--data {spec}: x must be float images in [0, 1] or uint8; got {x.dtype}")
    if x.dim() == 3:
        x = x.unsqueeze(1)  # [N, H, W] greyscale
    if x.dim() != 4:
        raise AdvkitError(f"--data {spec}: x must be [N, C, H, W] (or [N, H, W]); got shape {list(x.shape)}")
    if y.dim() != 1 or y.shape[0] != x.shape[0] or y.is_floating_point() or y.dtype == torch.bool:
        raise AdvkitError(f"--data {spec}: y must hold one integer label per image ([{x.shape[0]}]); got {y.dtype} {list(y.shape)}")
    if x.shape[0] == 0:
        raise AdvkitError(f"--data {spec} holds no examples")
    x = x.float()
    if not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise AdvkitError(f"--data {spec}: x has values outside [0, 1] (min {x.min().item():.3g}, max {x.max().item():.3g}); "
                          "pass unnormalized images and give the normalization as --mean/--std")
    return x.contiguous(), y.long()


def check_pair(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """The model's number of classes, after checking that it takes ``x`` and that every label is one of them."""
    from advkit.runtime.modules import model_device, model_dtype

    try:
        with torch.no_grad():
            out = model(x[:2].to(model_device(model), model_dtype(model)))
    except Exception as e:  # noqa: BLE001 - shape/channel mismatches surface as many exception types
        raise AdvkitError(f"the model rejects inputs of shape {list(x.shape[1:])} ({type(e).__name__}: "
                          f"{str(e).strip().splitlines()[0][:100]}); pass data the model was trained on") from None
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != min(2, x.shape[0]):
        raise AdvkitError(f"the model must return logits [batch, classes]; it returned "
                          f"{list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}")
    classes = out.shape[1]
    if y.min() < 0 or y.max() >= classes:
        raise AdvkitError(f"labels run from {y.min().item()} to {y.max().item()} but the model has {classes} outputs; "
                          "pass data with labels 0..classes-1 for this model")
    return classes
