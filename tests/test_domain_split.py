"""The classifier / GAN split of training data: disjoint, covering, decided by image content (so order and
subsets do not change it), ~20% per class; the domain classifier trains on its part only, with random
shifts; the shipped MNIST classifier records the split it was trained on."""

from __future__ import annotations

import pytest
import torch

from advkit.data import fake_dataset, load_dataset
from advkit.data.splits import (CLASSIFIER_SHARE, classifier_split, content_keys, gan_training_split,
                                 reference_and_heldout, take)
from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError
from advkit.gan.metrics.domain import asset_path, random_shift, train_domain_classifier
from advkit.runtime.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def mnist_train() -> TensorData:
    try:
        return load_dataset("mnist", "train", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")


def test_split_is_disjoint_covering_and_about_the_share_of_every_class(mnist_train):
    clf, gan = classifier_split(mnist_train), gan_training_split(mnist_train)
    assert len(set(clf.tolist()) & set(gan.tolist())) == 0
    assert torch.equal(torch.cat([clf, gan]).sort().values, torch.arange(len(mnist_train)))
    per_class = torch.bincount(mnist_train.labels[clf], minlength=10).double()
    totals = torch.bincount(mnist_train.labels, minlength=10).double()
    assert ((per_class / totals - CLASSIFIER_SHARE).abs() < 0.06).all()  # 500 per class: binomial sd ~0.018


def test_split_follows_the_images_not_their_order_or_the_file_they_come_from(mnist_train):
    order = torch.randperm(len(mnist_train), generator=torch.Generator().manual_seed(0))
    shuffled = take(mnist_train, order, "shuffled")
    chosen = set(order[classifier_split(shuffled)].tolist())
    assert chosen == set(classifier_split(mnist_train).tolist())
    # A subset (as the offline 5k is of the full 60k) keeps each image on its side.
    part = order[:1234]
    in_subset = set(part[classifier_split(take(mnist_train, part, "subset"))].tolist())
    assert in_subset == chosen & set(part.tolist())


def test_split_seed_share_and_input_checks(mnist_train):
    assert not torch.equal(classifier_split(mnist_train, seed=1), classifier_split(mnist_train))
    assert len(classifier_split(mnist_train, share=0.5)) > 2 * len(classifier_split(mnist_train, share=0.2))
    with pytest.raises(AdvkitError, match="share"):
        classifier_split(mnist_train, share=1.0)
    resized = load_dataset("fake", "train", image_size=32)
    with pytest.raises(AdvkitError, match="before resizing"):
        gan_training_split(resized)
    keys = content_keys(mnist_train.images[:100])
    assert keys.dtype == torch.float64 and (keys >= 0).all() and (keys < 1).all()


def test_reference_and_heldout_split_a_test_set_at_random(mnist_train):
    reference, heldout = reference_and_heldout(mnist_train, 1000)
    assert len(heldout) == 1000 and len(reference) == 4000
    assert torch.equal(torch.cat([reference, heldout]).sort().values, torch.arange(5000))
    assert torch.bincount(mnist_train.labels[heldout], minlength=10).min() > 60  # not the first (class-sorted) rows
    with pytest.raises(AdvkitError, match="held-out"):
        reference_and_heldout(mnist_train, 5000)


def test_random_shift_moves_each_image_by_whole_pixels():
    images = torch.rand(64, 1, 28, 28)
    shifted = random_shift(images, 2, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    seen = set()
    for i in range(64):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(shifted[i], padded[i, :, 2 - dy:30 - dy, 2 - dx:30 - dx])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 10  # offsets differ from image to image


def test_domain_classifier_trains_on_its_part_only():
    data = fake_dataset(200, (1, 28, 28), seed=3)
    _, report = train_domain_classifier(data, epochs=1, seed=0)
    assert report["train_n"] == len(classifier_split(data)) and "domain-classifier part" in report["train"]
    _, everything = train_domain_classifier(data, epochs=1, seed=0, classifier_share=None, max_shift=0)
    assert everything["train_n"] == 200


def test_shipped_mnist_classifier_was_trained_on_the_classifier_part():
    config = load_checkpoint(asset_path("mnist"))["config"]
    assert config["classifier_share"] == CLASSIFIER_SHARE and "domain-classifier part" in config["train"]
    assert config["test_accuracy"] > 0.97
