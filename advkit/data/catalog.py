"""What data advkit knows: where each set comes from, its licence, how to get it, and its checksums.

Backs ``advkit data list|verify|fetch``. Every folder is under the data root (:mod:`advkit.data.paths`)
except Debian's Fashion-MNIST, which lives where ``apt-get`` put it.

    >>> [(e.name, e.licence) for e in catalog()][:1]
    [('mnist-offline', 'CC BY-SA 3.0 (Y. LeCun, C. Cortes)')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from advkit.data.fetch import MANIFESTS, file_md5, load_manifest
from advkit.data.paths import DENOISE_SETS, assets_root, data_root

BSDS_TERMS = "free for non-commercial research and educational use (Berkeley Segmentation Dataset terms)"
MNIST_LICENCE = "CC BY-SA 3.0 (Y. LeCun, C. Cortes)"


@dataclass
class Entry:
    name: str
    what: str
    source: str  # where the files come from (a URL)
    licence: str
    get: str  # the command that provides it
    files: dict[str, str]  # path relative to folder -> md5 ("" when not pinned)
    folder: Path  # the data root, or / for absolute (Debian) paths
    vendored: bool = False  # shipped with the checkout: missing files are an error, not just "not fetched"
    origin: str = ""  # the original publisher, when the files are fetched from a redistribution


def catalog() -> list[Entry]:
    from advkit.data.fashion import debian_files
    from advkit.data.mnist import OFFLINE_FILES

    root = data_root()
    debian = {str(p).lstrip("/"): "" for p in debian_files().values()}
    fashion_files = {f"FashionMNIST/raw/{f}": "" for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    entries = [
        Entry("mnist-offline", "official 10k MNIST test set + 5k training subset", "http://yann.lecun.com/exdb/mnist/",
              MNIST_LICENCE, "shipped in the package (advkit/assets/mnist; reinstall advkit)",
              {f"mnist/{k}": v for k, v in OFFLINE_FILES.items()},
              root if (root / "mnist").is_dir() else assets_root(), vendored=True),
        Entry("mnist", "full MNIST 60k/10k", "https://ossci-datasets.s3.amazonaws.com/mnist/ (torchvision)",
              MNIST_LICENCE, "advkit data fetch mnist",
              {f"MNIST/raw/{f}": "" for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}, root),
        Entry("fashion-mnist", "full Fashion-MNIST 60k/10k", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
              "MIT (Zalando Research)", "advkit data fetch fashion-mnist, or apt-get install dataset-fashion-mnist",
              debian or fashion_files, Path("/") if debian else root),
        Entry("stl10", "STL-10 96x96 colour, 5k labelled train + 100k unlabelled",
              "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
              "no licence stated (images from ImageNet; research use)", "advkit data fetch stl10",
              {f"stl10_binary/{f}": "" for f in ("train_X.bin", "train_y.bin", "test_X.bin", "unlabeled_X.bin")}, root),
    ]
    for name in ("cifar10", "cifar100"):
        manifest = json.loads((MANIFESTS / f"{name}.json").read_text())
        entries.append(Entry(name, manifest["what"], manifest["archive"]["urls"][0], manifest["licence"],
                             f"advkit data fetch {name}",
                             {f"{manifest['folder']}/{f}": m for f, m in manifest["files"].items()}, root))
    for name in DENOISE_SETS:
        manifest = load_manifest(name)
        source = manifest["archive"]["urls"][0] if "archive" in manifest else manifest["base_urls"][0]
        entries.append(Entry(name, manifest["what"], source, manifest["licence"], f"advkit data fetch {name}",
                             {f"denoise/{name}/{f}": m for f, m in manifest["files"].items()}, root,
                             origin=manifest["origin"]))
    return entries


def check(entry: Entry) -> list[tuple[str, str]]:
    """(file, status) per file: ok | missing | checksum mismatch."""
    results = []
    for rel, expected in entry.files.items():
        path = entry.folder / rel
        if not path.exists():
            results.append((rel, "missing"))
        elif expected and path.is_file() and file_md5(path) != expected:
            results.append((rel, "checksum mismatch"))
        else:
            results.append((rel, "ok"))
    return results


def present(entry: Entry) -> tuple[int, int]:
    """(files present, files listed), without reading them (``advkit data list`` stays fast)."""
    return sum((entry.folder / rel).exists() for rel in entry.files), len(entry.files)
