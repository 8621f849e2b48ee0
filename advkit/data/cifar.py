"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images") through
torchvision's loaders, every file checked against the md5 of the shipped manifest first.

On disk (what ``advkit data fetch cifar10`` / ``cifar100`` leaves under the data root, torchvision's layout)::

    cifar-10-batches-py/  data_batch_1 .. data_batch_5, test_batch, batches.meta
    cifar-100-python/     train, test, meta

each a python pickle of ``{"data": uint8 [N, 3072] (R, G, B planes of 32x32, row-major), "labels"`` (CIFAR-10)
or ``"fine_labels"`` (CIFAR-100) ``: [N] ints}``; the meta file names the classes. ``advkit/data/manifests/
cifar10.json`` and ``cifar100.json`` hold torchvision's md5s (tests/test_data_cifar.py checks they agree); a
missing file is an error naming ``advkit data fetch``, a changed one an error naming the file.

    >>> test = load_cifar("cifar10", "test")          # TensorData, images [10000, 3, 32, 32] in [0, 1]
    >>> load_cifar("cifar10", "test", root=tmp, manifest=my_manifest)   # another copy, other md5s
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from advkit.data.fetch import MANIFESTS, file_md5
from advkit.data.paths import data_root
from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError

CIFAR_SETS = ("cifar10", "cifar100")


def cifar_manifest(name: str) -> dict:
    if name not in CIFAR_SETS:
        raise AdvkitError(f"unknown CIFAR set {name!r}; choose one of {', '.join(CIFAR_SETS)}")
    return json.loads((MANIFESTS / f"{name}.json").read_text())


def verify_cifar(name: str, root: Path, manifest: dict) -> Path:
    """The set's folder under ``root`` once every file of the manifest is there with its md5."""
    folder = root / manifest["folder"]
    missing = [f for f in manifest["files"] if not (folder / f).is_file()]
    if missing:
        raise AdvkitError(f"{name} is not in {root} ({len(missing)} of {len(manifest['files'])} files missing, e.g. "
                          f"{manifest['folder']}/{missing[0]}); run `advkit data fetch {name}` on a machine with a "
                          f"network, or set ADVKIT_DATA to a folder holding {manifest['folder']}/")
    for rel, md5 in manifest["files"].items():
        if file_md5(folder / rel) != md5:
            raise AdvkitError(f"{folder / rel} does not match its md5 ({md5}): the file is corrupt or another "
                              f"version; delete {folder} and run `advkit data fetch {name}` again")
    return folder


def load_cifar(name: str, split: str = "test", root: Path | None = None, manifest: dict | None = None) -> TensorData:
    """CIFAR ``split`` ("train" or "test") as a TensorData, read by torchvision's CIFAR10 / CIFAR100 class whose
    md5 lists are the manifest's (so torchvision's own integrity check verifies the same sums)."""
    from torchvision.datasets import CIFAR10, CIFAR100

    if split not in ("train", "test"):
        raise AdvkitError(f"CIFAR splits are train and test; got {split!r}")
    manifest = manifest or cifar_manifest(name)
    root = Path(root) if root is not None else data_root()
    verify_cifar(name, root, manifest)
    files = manifest["files"]
    base = CIFAR10 if name == "cifar10" else CIFAR100
    pinned = type(base.__name__, (base,), {
        "base_folder": manifest["folder"],
        "train_list": [[f, files[f]] for f in manifest["splits"]["train"]],
        "test_list": [[f, files[f]] for f in manifest["splits"]["test"]],
        "meta": {"filename": manifest["meta"]["file"], "key": manifest["meta"]["key"],
                 "md5": files[manifest["meta"]["file"]]},
    })
    try:
        data = pinned(str(root), train=split == "train", download=False)
    except (RuntimeError, KeyError, ValueError, EOFError) as e:  # a pickle without the expected keys or shape
        raise AdvkitError(f"{root / manifest['folder']} is not a readable {name} copy ({type(e).__name__}: "
                          f"{str(e)[:80]}); run `advkit data fetch {name}` again") from None
    images = torch.from_numpy(data.data).permute(0, 3, 1, 2).float().div_(255).contiguous()
    labels = torch.tensor(data.targets, dtype=torch.long)
    return TensorData(images, labels, f"{name}/{split}", f"{name} {split} ({len(labels)} images)", len(data.classes))
