"""CIFAR-10 / CIFAR-100 and ImageNet-val loading from small files made here in each real on-disk format: python
pickles in the cifar-10-batches-py / cifar-100-python layout (md5-checked against a manifest), and an ImageFolder
tree of JPEGs in wnid folders; never a mock of the loader."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from advkit.data.cifar import cifar_manifest, load_cifar
from advkit.data.fetch import file_md5
from advkit.errors import AdvkitError


def write_cifar(root: Path, name: str, per_file: int = 4, seed: int = 0) -> tuple[dict, dict[str, np.ndarray]]:
    """Write every file of ``name``'s layout (random pixels and labels); returns (a manifest with their md5s,
    {file: uint8 [n, 3072]})."""
    manifest = cifar_manifest(name)
    folder = root / manifest["folder"]
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    classes = 10 if name == "cifar10" else 100
    key = "labels" if name == "cifar10" else "fine_labels"
    written = {}
    for f in manifest["splits"]["train"] + manifest["splits"]["test"]:
        data = rng.integers(0, 256, (per_file, 3072), dtype=np.uint8)
        labels = rng.integers(0, classes, per_file).tolist()
        entry = {"data": data, key: labels, "batch_label": f}
        if name == "cifar100":
            entry["coarse_labels"] = [label // 5 for label in labels]
        (folder / f).write_bytes(pickle.dumps(entry))
        written[f] = (data, labels)
    meta = manifest["meta"]
    (folder / meta["file"]).write_bytes(pickle.dumps({meta["key"]: [f"class{i}" for i in range(classes)]}))
    manifest["files"] = {f: file_md5(folder / f) for f in manifest["files"]}
    return manifest, written


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_shipped_manifest_holds_torchvisions_md5s(name):
    from torchvision.datasets import CIFAR10, CIFAR100

    cls, manifest = (CIFAR10 if name == "cifar10" else CIFAR100), cifar_manifest(name)
    assert manifest["folder"] == cls.base_folder and manifest["archive"]["md5"] == cls.tgz_md5
    assert [[f, manifest["files"][f]] for f in manifest["splits"]["train"]] == cls.train_list
    assert [[f, manifest["files"][f]] for f in manifest["splits"]["test"]] == cls.test_list
    assert manifest["files"][cls.meta["filename"]] == cls.meta["md5"]


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_pickles_decode_to_the_written_pixels(tmp_path, name):
    manifest, written = write_cifar(tmp_path, name)
    test = load_cifar(name, "test", root=tmp_path, manifest=manifest)
    data, labels = written[manifest["splits"]["test"][0]]
    assert test.images.shape == (4, 3, 32, 32) and test.images.dtype == torch.float32
    # the row of 3072 bytes is the R, G, B planes of 32x32, row-major: pixel (c, h, w) is byte c*1024 + h*32 + w
    assert torch.equal((test.images * 255).round().to(torch.uint8), torch.from_numpy(data).view(4, 3, 32, 32))
    assert test.labels.tolist() == labels and test.num_classes == (10 if name == "cifar10" else 100)
    train = load_cifar(name, "train", root=tmp_path, manifest=manifest)
    assert len(train) == 4 * len(manifest["splits"]["train"])


def test_cifar_refuses_a_file_that_differs_from_its_md5(tmp_path):
    manifest, _ = write_cifar(tmp_path, "cifar10")
    with pytest.raises(AdvkitError, match="does not match its md5.*advkit data fetch cifar10"):
        load_cifar("cifar10", "test", root=tmp_path)  # the shipped manifest: the real files' md5s
    manifest["files"]["test_batch"] = "0" * 32
    with pytest.raises(AdvkitError, match="test_batch does not match"):
        load_cifar("cifar10", "test", root=tmp_path, manifest=manifest)


def test_missing_cifar_names_the_fetch_command(tmp_path, monkeypatch):
    from advkit.robustness.specs import load_data

    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    with pytest.raises(AdvkitError, match=r"cifar100 is not in .*run `advkit data fetch cifar100`"):
        load_data("cifar100", n=2)


def test_data_cifar10_through_the_data_grammar(tmp_path, monkeypatch):
    """--data cifar10 reads the data root; a manifest folder holding this copy's md5s stands in for the shipped one
    (the loader itself is the real one)."""
    import advkit.data.cifar as cifar
    from advkit.robustness.specs import load_data

    manifest, written = write_cifar(tmp_path / "root", "cifar10", per_file=10)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "cifar10.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(cifar, "MANIFESTS", tmp_path / "manifests")
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path / "root"))
    x, y = load_data("cifar10", n=0)
    assert x.shape == (10, 3, 32, 32) and y.tolist() == written["test_batch"][1]
    first, _ = load_data("cifar10", n=4, subset="first")
    assert torch.equal(first, x[:4])
    drawn, labels = load_data("cifar10", n=4, seed=3, subset="random")
    keep = torch.randperm(10, generator=torch.Generator().manual_seed(3))[:4]  # the documented draw
    assert torch.equal(drawn, x[keep]) and torch.equal(labels, y[keep])
    assert torch.equal(load_data("cifar10", n=4, subset="robustbench")[0], first)  # RobustBench: the first n


def write_imagenet_val(root: Path, files: list[str]) -> None:
    """JPEGs of different sizes and aspect ratios (scikit-image crops) at ``root/wnid/file``."""
    from fixtures_images import sample_crops
    from PIL import Image

    sizes = [(300, 260), (240, 320), (256, 256), (280, 400)]
    for i, rel in enumerate(files):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sample_crops(1 + i, size=sizes[i % 4])[i]).save(root / rel, quality=95)


def test_imagenet_val_folder_standard_preprocessing_and_labels(tmp_path):
    from torchvision import transforms
    from torchvision.datasets.folder import pil_loader

    from advkit.data.imagenet import imagenet_classes
    from advkit.robustness.specs import load_data

    files = ["n01443537/ILSVRC2012_val_00000002.JPEG", "n15075141/ILSVRC2012_val_00000009.JPEG",
             "n01443537/ILSVRC2012_val_00000001.JPEG"]
    write_imagenet_val(tmp_path / "val", files)
    x, y = load_data(f"imagenet:{tmp_path}", n=0)  # PATH/val is found
    assert x.shape == (3, 3, 224, 224)
    # ImageNet's class index of the wnid (1 and 999), not the rank among the two folders present
    classes = imagenet_classes()
    assert y.tolist() == [classes["n01443537"]] * 2 + [classes["n15075141"]] == [1, 1, 999]
    reference = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()])
    first = sorted(files)[0]  # ImageFolder order: folders sorted, files sorted within
    assert torch.equal(x[0], reference(pil_loader(str(tmp_path / "val" / first))))


def test_imagenet_subset_lists(tmp_path):
    from advkit.data.imagenet import ROBUSTBENCH_LIST, read_list
    from advkit.data.fetch import file_md5
    from advkit.robustness.specs import load_data

    listed = read_list(ROBUSTBENCH_LIST)
    shipped = json.loads((ROBUSTBENCH_LIST.parent / "imagenet-robustbench.json").read_text())
    assert len(listed) == len(set(listed)) == 5000 and file_md5(ROBUSTBENCH_LIST) == shipped["files"][ROBUSTBENCH_LIST.name]
    write_imagenet_val(tmp_path, listed[:3] + ["n01440764/ILSVRC2012_val_99999999.JPEG"])
    with pytest.raises(AdvkitError, match="lacks 4997 of the subset's 5000 images"):
        load_data(f"imagenet:{tmp_path}", n=3, subset="robustbench")
    own = tmp_path / "mine.txt"  # the documented format: wnid/filename per line, in evaluation order
    own.write_text("# my subset\n" + "\n".join(reversed(listed[:3])) + "\n")
    x, y = load_data(f"imagenet:{tmp_path}", n=2, subset=str(own))
    everything, labels = load_data(f"imagenet:{tmp_path}", n=0)
    order = sorted(listed[:3] + ["n01440764/ILSVRC2012_val_99999999.JPEG"])
    for i, rel in enumerate(list(reversed(listed[:3]))[:2]):
        assert torch.equal(x[i], everything[order.index(rel)]) and y[i] == labels[order.index(rel)]
    with pytest.raises(AdvkitError, match="not an ImageNet wnid"):
        (tmp_path / "cats").mkdir()
        load_data(f"imagenet:{tmp_path}", n=0)
