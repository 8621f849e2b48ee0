"""Every attack on a float64 (and a float16-free) model: inputs, scores, labels and restarts follow the model's dtype.

``PGD(restarts=2)`` once scored its restarts with ``self.model(x)`` (float32 images into a float64 model: a raw
RuntimeError); every attack now runs the model through ``Attack.logits`` and ``predict`` casts to the model's dtype.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advkit.attacks import APGD, APGDT, CW, FAB, FGSM, PGD, PGDL2, AutoAttack, DeepFool, Square, predict
from advkit.attacks.catalog import ATTACKS
from advkit.robustness.evaluate import build_attack, evaluate_robustness


def _model(dtype: torch.dtype) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 5)).to(dtype)


def _data():
    g = torch.Generator().manual_seed(1)
    return torch.rand(6, 3, 2, 2, generator=g), torch.randint(0, 5, (6,), generator=g)


ATTACK_OBJECTS = {
    "fgsm": lambda m: FGSM(m, 0.1),
    "pgd restarts": lambda m: PGD(m, 0.1, steps=3, restarts=2, generator=torch.Generator().manual_seed(0)),
    "pgd-l2 restarts": lambda m: PGDL2(m, 0.5, steps=3, restarts=2, generator=torch.Generator().manual_seed(0)),
    "cw": lambda m: CW(m, steps=5, search_steps=2),
    "deepfool": lambda m: DeepFool(m, steps=5),
    "apgd restarts": lambda m: APGD(m, 0.1, n_iter=5, restarts=2, generator=torch.Generator().manual_seed(0)),
    "apgd-t": lambda m: APGDT(m, 0.1, n_iter=5, n_target_classes=2),
    "fab": lambda m: FAB(m, 0.1, n_iter=5, n_target_classes=2, restarts=2),
    "square": lambda m: Square(m, 0.1, n_queries=20, restarts=2),
    "autoattack": lambda m: AutoAttack(m, 0.1, n_iter=3, n_queries=10, n_target_classes=2),
}


@pytest.mark.parametrize("name", ATTACK_OBJECTS)
def test_every_attack_runs_on_a_float64_model(name):
    model, (x, y) = _model(torch.float64), _data()
    x_adv = ATTACK_OBJECTS[name](model)(x, y)
    x_adv = x_adv if isinstance(x_adv, torch.Tensor) else x_adv["x_adv"]
    assert x_adv.dtype == torch.float32 and x_adv.shape == x.shape
    assert 0 <= x_adv.min() and x_adv.max() <= 1
    if name not in ("cw", "deepfool", "pgd-l2 restarts"):  # L-inf budget 0.1 (+ float32 rounding of x + eps)
        assert (x_adv - x).abs().max() <= 0.1 + 1e-6


def test_pgd_restarts_score_in_the_model_dtype_and_match_float32():
    """The restart scores come from the same logits the attack climbs: on a float64 copy of a float32 model the
    kept iterate fools at least as many points as a single run (restarts keep, per point, a success if any)."""
    x, y = _data()
    model64 = _model(torch.float64)
    single = PGD(model64, 0.1, steps=3, generator=torch.Generator().manual_seed(0))(x, y)
    best = PGD(model64, 0.1, steps=3, restarts=3, generator=torch.Generator().manual_seed(0))(x, y)
    fooled = lambda xa: (predict(model64, xa)[0] != y).sum().item()  # noqa: E731
    assert fooled(best) >= fooled(single)


def test_predict_and_the_evaluation_take_a_float64_model():
    x, y = _data()
    model = _model(torch.float64)
    pred, conf = predict(model, x)
    assert pred.dtype == torch.long and conf.dtype == torch.float32
    assert torch.equal(pred, model(x.double()).argmax(1))
    results = evaluate_robustness(model, x, y, [0.05, 0.1], attacks=["fgsm", "pgd"], pgd_steps=3, restarts=2)
    assert set(results["robust_accuracy"]) == {"0.05", "0.1"}


@pytest.mark.parametrize("name", [n for n, e in ATTACKS.items() if e.name in ("fgsm", "pgd", "pgd-l2", "deepfool")])
def test_catalog_attacks_build_for_a_float64_model(name):
    model, (x, y) = _model(torch.float64), _data()
    norm = ATTACKS[name].norms[0]
    attack = build_attack(name, model, 0.1, norm, torch.Generator().manual_seed(0), pgd_steps=2, restarts=2)
    assert attack(x, y).shape == x.shape
