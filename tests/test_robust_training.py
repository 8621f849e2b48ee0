"""Robust training methods: PGD-AT (Madry et al. 2018) and TRADES (Zhang et al. 2019) objectives, the Madry CNN,
the method/fast options, eps warm-up, the cosine schedule, weight averaging and the end-of-training report."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advkit.train.adversarial_objective import adversarial_objective, trades_example, trades_objective
from advkit.attacks import PGD, predict
from advkit.runtime.session import open_session
from advkit.errors import AdvkitError
from advkit.models.classifiers import build_classifier
from advkit.train.classifier import ClassifierTrainer
from advkit.train.classifier_config import ClassifierConfig

SMALL = dict(train_size=400, arch="mlp", units=64, steps=100, batch_size=50, sample_every=100, checkpoint_every=100,
             eval_size=100, log_every=50, report_size=100)


@pytest.fixture(scope="module")
def test_digits():
    from advkit.data import load_dataset

    return load_dataset("mnist", "test").subset(300)


def _train(tmp_path, name: str, **overrides) -> ClassifierTrainer:
    config = ClassifierConfig(**{**SMALL, "device": "cpu", **overrides})
    session = open_session("advtrain", config, out=tmp_path / name, quiet=True)
    try:
        trainer = ClassifierTrainer(config, session)
        trainer.fit()
    finally:
        session.run.close()
    return trainer


def _pgd_error(net, data, eps=0.1) -> float:
    x_adv = PGD(net, eps, steps=10, generator=torch.Generator().manual_seed(0))(data.images, data.labels)
    return (predict(net, x_adv)[0] != data.labels).float().mean().item()


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_method_and_fast_alias():
    assert ClassifierConfig(fast=True).method == "fgsm-rs"
    assert ClassifierConfig(method="fgsm-rs").fast is True
    assert ClassifierConfig(method="pgd").fast is False
    with pytest.raises(AdvkitError, match="--fast means --method fgsm-rs"):
        ClassifierConfig(fast=True, method="trades")
    with pytest.raises(AdvkitError, match="--attack-steps"):
        ClassifierConfig(method="pgd", attack_steps=0)
    with pytest.raises(AdvkitError, match="--weight-average"):
        ClassifierConfig(weight_average=1.0)
    assert ClassifierConfig(method="trades", alpha=1.0).plain is False  # TRADES ignores alpha
    assert ClassifierConfig(method="pgd", alpha=1.0).plain is True
    ramp = ClassifierConfig(eps=0.3, eps_warmup=10)
    # 0.3 * 1 / 10 in float64 (approx's 1e-6 relative is spare)
    assert ramp.train_eps(0) == pytest.approx(0.03) and ramp.train_eps(9) == 0.3 and ramp.train_eps(500) == 0.3


def test_madry_cnn_shape_and_size():
    net = build_classifier("madry")
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    # conv 32x1x5x5 + conv 64x32x5x5 + fc 3136x1024 + fc 1024x10, with biases (Madry et al.'s 3.27M weights)
    assert sum(p.numel() for p in net.parameters()) == 832 + 51264 + 3212288 + 10250


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_pgd_objective_trains_on_pgd_examples(test_digits):
    torch.manual_seed(0)
    net = build_classifier("softmax")
    x, y = test_digits.images[:32], test_digits.labels[:32]
    loss, parts = adversarial_objective(net, x, y, alpha=0.0, eps=0.1, method="pgd", steps=5, step=0.03,
                                        generator=torch.Generator().manual_seed(1))
    x_pgd = PGD(net, 0.1, step=0.03, steps=5, generator=torch.Generator().manual_seed(1))(x, y)
    # the same float32 cross-entropy at the same PGD point (same seed): a few roundings of O(1) values
    assert loss.item() == pytest.approx(F.cross_entropy(net(x_pgd), y).item(), rel=1e-5)
    assert loss.item() > F.cross_entropy(net(x), y).item() + 0.1  # the attack raised the loss
    with pytest.raises(AdvkitError, match="unknown adversarial training method"):
        adversarial_objective(net, x, y, 0.0, 0.1, method="trades")


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_trades_objective_and_example(test_digits):
    torch.manual_seed(0)
    net = build_classifier("softmax")
    x, y = test_digits.images[:32], test_digits.labels[:32]
    gen = torch.Generator().manual_seed(0)
    x_adv = trades_example(net, x, eps=0.1, steps=5, step=0.03, generator=gen)
    assert (x_adv - x).abs().max() <= 0.1 + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
    with torch.no_grad():
        p = net(x).softmax(1)
        kl_start = F.kl_div(net(x).log_softmax(1), p, reduction="batchmean")
        kl_adv = F.kl_div(net(x_adv).log_softmax(1), p, reduction="batchmean")
    assert kl_adv > kl_start + 0.01  # the attack ascends the KL
    raw = trades_example(net, x, eps=0.1, steps=5, step=0.03, clip=False, generator=gen)
    assert raw.min() < 0  # --no-clip: the paper's raw eta leaves the image range at black pixels
    loss, parts = trades_objective(net, x, y, eps=0.1, beta=6.0, steps=5, step=0.03,
                                   generator=torch.Generator().manual_seed(0))
    # float32 sum vs float64 sum of the same terms: ~1e-7 relative
    assert loss.item() == pytest.approx(parts["loss_clean"] + 6.0 * parts["loss_kl"], rel=1e-5)
    clean_only, _ = trades_objective(net, x, y, eps=0.1, beta=0.0, steps=2)
    # the same float32 cross-entropy
    assert clean_only.item() == pytest.approx(F.cross_entropy(net(x), y).item(), rel=1e-5)


def test_pgd_and_trades_training_lower_pgd_error(tmp_path, test_digits):
    plain = _train(tmp_path, "plain", alpha=1.0).models["net"]
    pgd = _train(tmp_path, "pgd", method="pgd", alpha=0.0, eps=0.1, attack_steps=3, attack_step=0.05)
    trades = _train(tmp_path, "trades", method="trades", eps=0.1, attack_steps=3, attack_step=0.05, beta=3.0)
    plain_error = _pgd_error(plain, test_digits)
    for trainer in (pgd, trades):
        assert _pgd_error(trainer.models["net"], test_digits) < plain_error - 0.1, trainer.config.method


def test_schedule_warmup_and_weight_average(tmp_path, test_digits):
    trainer = _train(tmp_path, "avg", method="pgd", alpha=0.0, eps=0.1, attack_steps=2, steps=40, sample_every=40,
                     checkpoint_every=40, eps_warmup=20, lr_schedule="cosine", weight_average=0.9)
    lr = trainer.optimizers["net"].param_groups[0]["lr"]
    assert 0 < lr < 0.01 * trainer.config.lr  # cosine: almost 0 at the last step
    net, averaged = trainer.models["net"], trainer.final_model
    assert averaged is not net
    assert any(not torch.equal(a, b) for a, b in zip(averaged.parameters(), net.parameters()))
    saved = trainer.save_final(tmp_path / "final.pt")
    from advkit.runtime.checkpoint import load_checkpoint

    state = load_checkpoint(saved)["state"]["net"]
    assert all(torch.equal(state[k], v) for k, v in averaged.state_dict().items())
    assert "averaged" in trainer.extra_state()
    report = trainer.report(quick=True)
    assert {"clean_error", "fgsm_error", "pgd_error", "strong_attack", "strong_attack_error"} <= set(report)
    assert report["strong_attack_error"] >= report["pgd_error"] - 0.05  # the strong attack is at least as strong
    try:
        import advkit.attacks.apgd  # noqa: F401
    except ImportError:
        assert report["strong_attack"].startswith("PGD-40") and "not installed" in report["strong_attack_note"]


def test_augment_shift_moves_each_image_and_is_seeded(tmp_path, monkeypatch):
    """--augment-shift N: every training image is its original moved by its own offset in [-N, N] per axis."""
    from advkit.train import classifier as classifier_module

    seen = []

    def recording_objective(net, x, y, *args, **kwargs):
        seen.append(x.clone())
        return F.cross_entropy(net(x), y), {}

    monkeypatch.setattr(classifier_module, "adversarial_objective", recording_objective)
    trainer = _train(tmp_path, "shift", alpha=0.0, eps=0.1, steps=1, augment_shift=2)
    drawn, _ = trainer.train_data.sample(trainer.config.batch_size, torch.Generator().manual_seed(trainer.seed))
    shifted = seen[0]
    offsets = set()
    for original, moved in zip(drawn, shifted):
        padded = F.pad(original, (2, 2, 2, 2))
        matches = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(padded[:, dy:dy + 28, dx:dx + 28], moved)]
        assert matches, "an augmented image is not a shift of the drawn one"
        offsets.add(matches[0])
    assert len(offsets) > 5  # independent offsets per image, not one crop for the whole batch
    again = []
    monkeypatch.setattr(classifier_module, "adversarial_objective",
                        lambda net, x, y, *a, **k: (again.append(x.clone()), (F.cross_entropy(net(x), y), {}))[1])
    _train(tmp_path, "shift-again", alpha=0.0, eps=0.1, steps=1, augment_shift=2)
    assert torch.equal(again[0], shifted)  # same seed, same shifts
    with pytest.raises(AdvkitError, match="augment-shift"):
        ClassifierConfig(augment_shift=-1)
