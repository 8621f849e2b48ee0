"""The validation split a recipe is chosen on: ``--data mnist:heldout:N`` is exactly what ``advtrain --train-size N``
left out of the training split, so a certificate or robustness figure on it never touches the test set and never
sees a training image."""

from __future__ import annotations

import torch

from advkit.data import load_dataset
from advkit.data.tensors import training_subset
from advkit.robustness.specs import load_points, subset_description
from advkit.runtime.session import open_session
from advkit.train.classifier import ClassifierTrainer
from advkit.train.classifier_config import ClassifierConfig


def _rows(images: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in images.mul(255).round().to(torch.uint8).flatten(1)}


def test_training_subset_splits_the_set_in_two():
    kept, held = training_subset(50, 40)
    assert len(kept) == 40 and len(held) == 10
    assert sorted(torch.cat([kept, held]).tolist()) == list(range(50))
    assert torch.equal(training_subset(50, 40)[1], held)  # fixed: the same for every training seed
    assert len(training_subset(50, 0)[0]) == 50 and len(training_subset(50, 0)[1]) == 0


def test_heldout_points_are_the_images_advtrain_did_not_train_on(tmp_path):
    config = ClassifierConfig(train_size=4900, arch="softmax", steps=1, sample_every=1, checkpoint_every=1,
                              eval_size=10, report_size=10, report_pgd_steps=0, device="cpu")
    session = open_session("advtrain", config, out=tmp_path / "run", quiet=True)
    try:
        trained_on = ClassifierTrainer(config, session).train_data.images
    finally:
        session.run.close()
    x, y, index = load_points("mnist:heldout:4900")
    assert x.shape == (100, 1, 28, 28) and y.shape == (100,)
    train = load_dataset("mnist", "train")
    assert torch.equal(x, train.images[index]) and torch.equal(y, train.labels[index])  # index: in the train split
    assert not _rows(x) & _rows(trained_on)  # no validation image was trained on (the subset has no duplicates)
    assert len(_rows(x) | _rows(trained_on)) == 5000
    assert len(y.unique()) == 10  # a shuffled split, not the tail of the class-sorted file
    some = load_points("mnist:heldout:4900", 20, seed=3)
    assert set(some[2].tolist()) < set(index.tolist())
    assert subset_description("mnist:heldout:4900", None, 0, "random", 100) == \
        "all 100 held-out training points (validation)"


def test_heldout_spec_errors_teach_the_fix(cli):
    for spec in ("mnist:heldout:5000", "mnist:heldout:0", "mnist:heldout:x"):
        result = cli("certify", "--data", spec, "--n", "2")
        assert result.exit_code == 2, result.output
        assert "--train-size the model was trained with" in result.output and "Traceback" not in result.output
