"""The GAN data pipeline, one home for training (`gan train`) and evaluation (`eval gan`).

Training sees the data at the generator's size and range; evaluation compares samples with real images that went
through the same resizing, so resizing is never a term of the FID (a 32 px Stacked-MNIST G once scored 194 against
28 px real images and 47 like for like).

    >>> data, reference, rescale = training_data(config, device)   # what D sees, real [0, 1] images for metrics
    >>> test, floor = evaluation_reference("mnist", "offline", image_size=28)
"""

from __future__ import annotations

from pathlib import Path

import torch

from advkit.data.stacked_mnist import PACGAN_TRIPLES
from advkit.errors import AdvkitError

IMAGE_DATASETS = ("mnist", "fashion-mnist", "stl10", "stacked-mnist", "fake")
DOMAIN_DATASETS = ("mnist", "fashion-mnist", "stacked-mnist")  # judged by a domain classifier
TOY_DATASETS = ("ring", "gaussian1d")


def real_images(dataset: str, split: str, data_source: str, image_size: int | None,
                stacked: tuple[int, int] = (PACGAN_TRIPLES, 0), gan_part: bool = False):
    """A labelled image set at ``image_size`` (None: the data's own), [0, 1]. Stacked MNIST is drawn from the MNIST
    split: ``stacked`` = (number of triples, seed). ``gan_part``: only the images a GAN may train on (a training
    split minus the part the domain classifier learned from, :mod:`advkit.data.splits`)."""
    from advkit.data import load_dataset
    from advkit.data.splits import gan_training_split, take
    from advkit.data.tensors import resized

    base = "mnist" if dataset == "stacked-mnist" else dataset
    data = load_dataset(base, split, data_source)
    if gan_part:
        data = take(data, gan_training_split(data), "GAN part: the domain classifier never saw it")
    if dataset == "stacked-mnist":
        from advkit.data.stacked_mnist import stacked_mnist

        n, seed = stacked
        return stacked_mnist(data, n=n, seed=seed, image_size=image_size)
    return resized(data, image_size)


def training_data(config, device: torch.device):
    """(what the trainer samples batches from, up to 10k real [0, 1] images for evaluation, rescale-crops flag).

    Image tensors move to the device when they fit (a batch is then an index); a tanh generator (dcgan) trains
    on [-1, 1]; image folders yield random crops of ``image_size`` (64 by default), mirrored only."""
    from advkit.data.tensors import place_dataset

    c = config
    if c.dataset in TOY_DATASETS:
        from advkit.data.toy import TOY_DATASETS as toys

        return toys[c.dataset](), None, False
    if c.dataset in DOMAIN_DATASETS:  # the domain classifier's part of the training split is left out
        data = real_images(c.dataset, "train", c.data_source, c.image_size or None,
                           stacked=(c.stacked_triples, 0), gan_part=True)
    elif c.dataset in IMAGE_DATASETS:
        from advkit.data import load_dataset

        size = c.image_size or (64 if c.dataset == "stl10" else None)
        data = load_dataset(c.dataset, "unlabeled" if c.dataset == "stl10" and not c.num_classes else "train",
                            c.data_source, image_size=size)
    elif Path(c.dataset).is_dir():
        from advkit.data.folders import ImageCrops

        # Mirror images only: a GAN must not learn upside-down photos. Held on the device when there is one.
        crops = ImageCrops.from_folder(c.dataset, crop=c.image_size or 64, device=device, symmetries="hflip")
        reference = crops.sample(500, torch.Generator().manual_seed(0)).cpu()  # fixed real crops: the diversity reference
        return crops, reference, c.arch == "dcgan"  # crops come in [0, 1]; a tanh generator trains on [-1, 1]
    else:
        raise AdvkitError(f"--dataset {c.dataset!r} is neither a known dataset ({', '.join(IMAGE_DATASETS + TOY_DATASETS)}) "
                          "nor an image folder")
    if c.num_classes and c.num_classes != data.num_classes:
        raise AdvkitError(f"--num-classes {c.num_classes}: {data.name} has {data.num_classes} classes")
    # Up to 10k [0, 1] images for evaluation (before any rescaling for tanh), a random subset: files may be sorted
    # by class.
    reference = data.images[torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:10_000]]
    if c.arch == "dcgan":  # tanh generator: train on [-1, 1]
        data = type(data)(data.images * 2 - 1, data.labels, data.name, data.source, data.num_classes)
    return place_dataset(data, device), reference, False


def evaluation_reference(dataset: str, data_source: str, image_size: int):
    """(the reference for FID: the test split, a disjoint real split for the floor), [0, 1], resized to the
    generator's ``image_size`` as `gan train` resized its data."""
    if dataset == "stacked-mnist":
        return (real_images(dataset, "test", data_source, image_size, stacked=(10_000, 1)),
                real_images(dataset, "train", data_source, image_size, stacked=(10_000, 2)))
    return (real_images(dataset, "test", data_source, image_size), real_images(dataset, "train", data_source, image_size))
