"""Adversarial training on a few hundred real MNIST images: it must lower FGSM error versus plain training
from the same seed."""

from __future__ import annotations

import json

import pytest
import torch

from advkit.train.adversarial_objective import OverfitMonitor, adversarial_objective, fgsm_rs_example
from advkit.attacks import FGSM, predict
from advkit.runtime.session import open_session
from advkit.errors import AdvkitError
from advkit.train.classifier import ClassifierTrainer
from advkit.train.classifier_config import ClassifierConfig

SMALL = dict(train_size=400, arch="maxout", units=64, pieces=2, steps=120, batch_size=50, sample_every=120, checkpoint_every=120,
             eval_size=200, log_every=40)


@pytest.fixture(scope="module")
def test_digits():
    from advkit.data import load_dataset

    return load_dataset("mnist", "test").subset(500)


def _train(tmp_path, name: str, seed: int = 0, **overrides) -> ClassifierTrainer:
    config = ClassifierConfig(**{**SMALL, "seed": seed, "device": "cpu", **overrides})
    session = open_session("advtrain", config, out=tmp_path / name, quiet=True)
    try:
        trainer = ClassifierTrainer(config, session)
        trainer.fit()
    finally:
        session.run.close()
    return trainer


def _fgsm_error(net, data, eps=0.25) -> float:
    pred, _ = predict(net, FGSM(net, eps)(data.images, data.labels))
    return (pred != data.labels).float().mean().item()


def test_adversarial_training_lowers_fgsm_error(tmp_path, test_digits):
    plain = _train(tmp_path, "plain", alpha=1.0).models["net"]
    robust = _train(tmp_path, "adv", alpha=0.5, eps=0.25).models["net"]
    plain_error, robust_error = _fgsm_error(plain, test_digits), _fgsm_error(robust, test_digits)
    assert robust_error < plain_error - 0.1, (plain_error, robust_error)  # measured: 1.00 vs ~0.75
    clean = (predict(robust, test_digits.images)[0] != test_digits.labels).float().mean().item()
    assert clean < 0.25  # it still classifies clean digits


def test_same_seed_same_weights(tmp_path):
    a = _train(tmp_path, "a", steps=10, sample_every=10, checkpoint_every=10).models["net"]
    b = _train(tmp_path, "b", steps=10, sample_every=10, checkpoint_every=10).models["net"]
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_objective_mixes_clean_and_adversarial_loss(test_digits):
    torch.manual_seed(0)
    from advkit.models.classifiers import build_classifier

    net = build_classifier("softmax")
    x, y = test_digits.images[:32], test_digits.labels[:32]
    loss_half, parts = adversarial_objective(net, x, y, alpha=0.5, eps=0.1)
    # the same two float32 means, added in float32 vs float64: a few roundings of O(1) values (~1e-7), 1e-5 bounds it
    assert loss_half.item() == pytest.approx(0.5 * parts["loss_clean"] + 0.5 * parts["loss_adv"], rel=1e-5)
    assert parts["loss_adv"] > parts["loss_clean"]  # FGSM raises the loss
    x_rs = fgsm_rs_example(net, x, y, 0.1, generator=torch.Generator().manual_seed(0))
    assert (x_rs - x).abs().max() <= 0.1 + 1e-6 and x_rs.min() >= 0 and x_rs.max() <= 1


def test_catastrophic_overfitting_is_detected_and_best_weights_kept(test_digits):
    from advkit.models.loader import load_victim

    net = load_victim("default", torch.device("cpu")).model
    monitor = OverfitMonitor(test_digits.images[:128], test_digits.labels[:128], eps=0.02, pgd_steps=3)
    good, _ = monitor.check(net, step=50)
    assert monitor.detected_at is None and good > 0.5
    saved = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():  # collapse: the network now answers one class whatever the input
        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.weight.zero_()
        last.bias.copy_(torch.arange(10.0))
    assert monitor.check(net, step=100)[0] < good - 0.2
    assert monitor.detected_at == 100 and monitor.best_step == 50
    assert all(torch.equal(monitor.best_state[k], saved[k]) for k in saved)


def test_overfitting_gap_between_fgsm_and_pgd_is_detected(test_digits):
    from advkit.models.classifiers import build_classifier

    torch.manual_seed(0)
    net = build_classifier("softmax")
    monitor = OverfitMonitor(test_digits.images[:64], test_digits.labels[:64], eps=0.1, gap=-1.0)  # any gap > -1
    monitor.check(net, step=10)
    assert monitor.detected_at == 10
    strict = OverfitMonitor(test_digits.images[:64], test_digits.labels[:64], eps=0.1, gap=1.0)  # never exceeded
    strict.check(net, step=10)
    assert strict.detected_at is None


def test_fast_training_runs_and_watches_overfitting(tmp_path):
    trainer = _train(tmp_path, "fast", alpha=0.0, fast=True, steps=40, sample_every=40, checkpoint_every=40,
                     overfit_check_every=20)
    assert trainer.monitor is not None and trainer.monitor.best_accuracy >= 0
    assert trainer.monitor.best_step in (20, 40)


def test_config_errors_teach():
    with pytest.raises(AdvkitError, match="--alpha"):
        ClassifierConfig(alpha=1.5)
    with pytest.raises(AdvkitError, match="--eps"):
        ClassifierConfig(eps=-1)


def test_cli_advtrain_checkpoint_feeds_fgsm(cli, tmp_path):
    run = tmp_path / "run"
    result = cli("advtrain", "--arch", "softmax", "--steps", "30", "--report-size", "200", "--report-pgd-steps", "2",
                 "--eval-size", "100", "--out", str(run), "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads((run / "results.json").read_text())
    assert data["after"]["clean_error"] < data["before"]["clean_error"]
    for key in ("clean_error", "fgsm_error", "fgsm_wrong_confidence", "pgd_error"):
        assert key in data["after"]
    ckpt = run / "checkpoints" / "final.pt"
    out = tmp_path / "fgsm"
    result = cli("fgsm", "--model", str(ckpt), "--dataset", "mnist", "--eps", "0.1,0.25", "--n", "200",
                 "--pgd-steps", "2", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [r["eps"] for r in rows] == [0.1, 0.25]
    assert rows[1]["fgsm_error"] >= rows[0]["fgsm_error"] - 0.02
    assert all(r["pgd_error"] >= r["fgsm_error"] - 0.05 for r in rows)
    assert (out / "images" / "error_vs_eps.png").exists()
