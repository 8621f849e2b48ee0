"""AutoAttack: the cascade is at least as strong as each of its attacks alone, flags are consistent, runs reproduce."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advkit.attacks import APGD, APGDT, FAB, AutoAttack, Square
from advkit.data import load_dataset
from advkit.errors import AdvkitError

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics

EPS = 0.01  # on the tiny net below, some points survive each attack and some do not


def tiny_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 5, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 12 * 12, 10)).eval()


@pytest.fixture(scope="module")
def setup():
    net = tiny_cnn()
    data = load_dataset("mnist", "test").subset(24)
    x, y = data.images, data.labels
    with torch.no_grad():
        pred = net(x).argmax(1)
    y = torch.where(torch.arange(len(y)) % 6 == 0, y, pred)  # mostly correct, a few clean errors
    attack = AutoAttack(net, EPS, n_iter=10, n_queries=200)
    return net, x, y, attack, attack.evaluate(x, y)


def accuracy(net, x, y) -> float:
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def test_standard_set_and_flags(setup):
    net, x, y, attack, report = setup
    assert report["attacks_run"] == ["apgd-ce", "apgd-t", "fab-t", "square"]
    clean, robust = report["clean"], report["robust"]
    assert 0 < clean.float().mean() < 1
    previous = clean
    for name in report["attacks_run"]:
        now = report["robust_after"][name]
        assert not (now & ~previous).any(), name  # robustness only ever shrinks along the cascade
        # a mean of 0/1 flags over the same points: exact but for the float32 vs float64 division (approx's 1e-6)
        assert report["robust_accuracy"][name] == pytest.approx(now.float().mean().item())
        previous = now
    assert torch.equal(previous, robust)
    # The worst case per point is what the model does on the returned images.
    with torch.no_grad():
        assert torch.equal(net(report["x_adv"]).argmax(1) == y, robust)
    for i, who in enumerate(report["fooled_by"]):
        assert (who is None) == bool(robust[i])
        assert (who == "clean") == (not clean[i])
    assert (report["x_adv"] - x).abs().max() <= EPS + 1e-6
    assert 0 <= report["x_adv"].min() and report["x_adv"].max() <= 1


def test_at_least_as_strong_as_each_attack_alone(setup):
    net, x, y, _, report = setup
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731  (the seeds AutoAttack gives its attacks)
    singles = {"apgd-ce": APGD(net, EPS, n_iter=10, generator=g()), "apgd-t": APGDT(net, EPS, n_iter=10, generator=g()),
               "fab-t": FAB(net, EPS, n_iter=10, generator=g()), "square": Square(net, EPS, n_queries=200, generator=g())}
    final = report["robust_accuracy"]["square"]
    alone = {name: accuracy(net, attack(x, y), y) for name, attack in singles.items()}
    assert all(final <= value for value in alone.values()), (final, alone)
    # The first attack of the cascade is exactly that attack alone.
    assert report["robust_accuracy"]["apgd-ce"] == pytest.approx(alone["apgd-ce"])  # the same 0/1 mean (as above)
    assert final < report["robust_accuracy"]["clean"]


def test_reproducible_and_call_equals_evaluate(setup):
    net, x, y, attack, report = setup
    assert torch.equal(attack(x, y), report["x_adv"])


def test_rand_version_with_eot():
    """A randomised model (noise on its input at every forward): APGD-CE and APGD-DLR with EOT gradients."""
    torch.manual_seed(0)
    inner = tiny_cnn()

    class Noisy(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = inner

        def forward(self, x):
            return self.net(x + 0.01 * torch.randn_like(x))

    x = load_dataset("mnist", "test").subset(8).images
    with torch.no_grad():
        y = inner(x).argmax(1)
    report = AutoAttack(Noisy(), 0.05, version="rand", n_iter=5, eot_iter=3).evaluate(x, y)
    assert report["attacks_run"] == ["apgd-ce", "apgd-dlr"]
    assert report["robust_accuracy"]["apgd-dlr"] < report["robust_accuracy"]["clean"]
    assert (report["x_adv"] - x).abs().max() <= 0.05 + 1e-6


def test_l2_standard_set_and_edge_cases(setup):
    net, x, y, _, _ = setup
    report = AutoAttack(net, 0.3, norm="L2", n_iter=5, n_queries=20).evaluate(x[:8], y[:8])
    assert report["attacks_run"] == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert (report["x_adv"] - x[:8]).flatten(1).norm(dim=1).max() <= 0.3 + 1e-5
    zero = AutoAttack(net, 0.0).evaluate(x[:8], y[:8])
    assert torch.equal(zero["x_adv"], x[:8]) and torch.equal(zero["robust"], zero["clean"])
    empty = AutoAttack(net, 0.1).evaluate(x[:0], y[:0])
    assert empty["x_adv"].shape == (0, 1, 28, 28) and empty["fooled_by"] == []
    with pytest.raises(AdvkitError, match="version"):
        AutoAttack(net, 0.1, version="plus")
    with pytest.raises(AdvkitError, match=r"\[0, 10\)"):
        AutoAttack(net, 0.1).evaluate(x[:2], torch.tensor([0, 10]))
