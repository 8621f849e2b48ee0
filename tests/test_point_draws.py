"""Per-point random streams (advkit.attacks.randomness): a point's draws, and so its attack, do not depend on the
other points of its batch, the batch size or the process; `eval robustness` gives the same per-point results at any
--batch-size."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advkit.attacks import APGD, APGDT, FAB, PGD, PGDL2, AutoAttack, Square
from advkit.attacks.randomness import BatchDraws, PointDraws, as_draws, point_seed
from advkit.errors import AdvkitError


def test_a_points_draws_do_not_depend_on_its_batch():
    seeds = [point_seed(0, "test", i) for i in range(5)]
    whole, alone = PointDraws(seeds), PointDraws(seeds[3:4])
    for step in range(400):  # 400 x (3 + 2 + 1) numbers: past the 1,024-number buffer's refills
        assert torch.equal(whole.rand((5, 3))[3:4], alone.rand((1, 3)))
        assert torch.equal(whole.randint(7, (5, 2))[3:4], alone.randint(7, (1, 2)))
        if step % 50 == 0:  # large draws come straight from the generator, interleaved with the buffered ones
            assert torch.equal(whole.randn((5, 1, 40, 40))[3:4], alone.randn((1, 1, 40, 40)))
        assert torch.equal(whole.subset(torch.tensor([4, 3])).rand((2, 1))[1:], alone.rand((1, 1)))
    # a subset shares its points' streams: drawing there advanced them here
    assert torch.equal(whole.rand((5, 2))[3:4], alone.rand((1, 2)))
    with pytest.raises(AdvkitError, match="first dimension must be the number of points"):
        whole.rand((4, 3))


def test_point_draws_are_uniform():
    draws = PointDraws([point_seed(1, i) for i in range(6)])
    values = draws.randint(6, (6, 10_000)).flatten()
    counts = torch.bincount(values, minlength=6).double()
    # 60,000 draws of 6 values: each count is Binomial(60000, 1/6), mean 10,000, std 91; 5 std is a 6e-7 false alarm
    assert values.min() >= 0 and values.max() <= 5 and (counts - 10_000).abs().max() < 5 * 91.3
    u = draws.rand((6, 10_000))
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean().item() - 0.5) < 5 * (1 / 12 / 60_000) ** 0.5


def test_generator_arguments():
    g = torch.Generator().manual_seed(0)
    assert isinstance(as_draws(g), BatchDraws) and isinstance(as_draws(None), BatchDraws)
    reference = torch.rand((2, 3), generator=torch.Generator().manual_seed(3))
    assert torch.equal(as_draws(torch.Generator().manual_seed(3)).rand((2, 3)), reference)
    with pytest.raises(AdvkitError, match="generator must be"):
        as_draws(3)


class TinyNet(nn.Module):
    """A random conv net with 5 classes, in float64: a batched forward then equals the per-point one to ~1e-16,
    far below the float32 rounding of the logits and gradients the attacks see, so the attacks' results can be
    compared bit for bit across batch sizes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 10 * 10, 5)).double()

    def forward(self, x):
        return self.net(x)


ATTACKS = {
    "pgd": lambda m, d: PGD(m, 0.05, steps=5, generator=d),
    "pgd-l2": lambda m, d: PGDL2(m, 0.5, steps=5, generator=d),
    "apgd-ce": lambda m, d: APGD(m, 0.03, n_iter=10, restarts=2, generator=d),
    "apgd-t-l2": lambda m, d: APGDT(m, 0.3, norm="L2", n_iter=5, n_target_classes=3, generator=d),
    "fab": lambda m, d: FAB(m, 0.01, n_iter=5, restarts=3, n_target_classes=2, generator=d),
    "square": lambda m, d: Square(m, 0.05, n_queries=100, generator=d),
    "square-l2": lambda m, d: Square(m, 0.5, norm="L2", n_queries=60, generator=d),
    "autoattack": lambda m, d: AutoAttack(m, 0.03, n_iter=5, n_target_classes=3, n_queries=60, generator=d),
}


@pytest.mark.numerics  # bit-equal across batch sizes: checked again under torch's generic kernels in CI
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attacks_with_point_draws_do_not_depend_on_the_batch(name, monkeypatch):
    drawn = []  # every random draw's rows, to show the attack drew (FAB draws only on restarts)
    for cls in (BatchDraws, PointDraws):
        for method in ("rand", "randn", "randint"):
            original = getattr(cls, method)

            def spy(self, *args, _original=original):
                out = _original(self, *args)
                drawn.append(out.shape[0])
                return out
            monkeypatch.setattr(cls, method, spy)
    model = TinyNet()
    x = torch.rand(9, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x.double()).argmax(1)  # every point starts correctly classified
    seeds = [point_seed(0, name, i) for i in range(9)]
    whole = ATTACKS[name](model, PointDraws(seeds))(x, y)
    for batch in (2, 4):
        parts = [ATTACKS[name](model, PointDraws(seeds[s:s + batch]))(x[s:s + batch], y[s:s + batch])
                 for s in range(0, 9, batch)]
        assert torch.equal(torch.cat(parts), whole), f"{name}: batch size {batch} changed a point's attack"
    reversed_order = ATTACKS[name](model, PointDraws(seeds[::-1]))(x.flip(0), y.flip(0))
    assert torch.equal(reversed_order.flip(0), whole)
    assert sum(drawn) > 0, f"{name} drew no random numbers: nothing was tested"
    if name != "fab":  # FAB returns the input for points it cannot fool, so other draws may change nothing
        other = ATTACKS[name](model, PointDraws([point_seed(1, name, i) for i in range(9)]))(x, y)
        assert not torch.equal(other, whole), f"{name}: the draws did not matter (nothing was tested)"


@pytest.mark.numerics  # a float32 CNN's batched forward at 3 batch sizes: decisions must not move on any CPU
def test_eval_robustness_is_independent_of_the_batch_size(tmp_path):
    from advkit.commands.eval_robustness import RobustnessConfig, run

    results = []
    for batch in (3, 7, 20):
        saved = run(RobustnessConfig(model="default", data="mnist", subset="first", n=20, eps="0.05,0.1",
                             attacks="pgd,apgd-ce", pgd_steps=5, batch_size=batch, device="cpu"),
            out=str(tmp_path / f"batch{batch}"), quiet=True)
        results.append({k: saved[k] for k in ("robust_accuracy", "robust_points", "clean_accuracy", "warnings")})
    assert results[0] == results[1] == results[2]
    assert 0 < len(results[0]["robust_points"]["0.1"]) < len(results[0]["robust_points"]["0.05"]) < 20


@pytest.mark.numerics
def test_points_are_seeded_by_their_index_in_the_data_not_their_place():
    """evaluate_robustness seeds each point by its ``indices`` entry: the same points in another order (and so in
    other blocks and batch positions), with their indices, give each point the same result."""
    from advkit.attacks import predict
    from advkit.models.loader import load_model
    from advkit.robustness.evaluate import evaluate_robustness
    from advkit.robustness.specs import load_points

    model = load_model("default", "cpu")
    x, y, index = load_points("mnist", n=16, seed=0)
    assert index.tolist() != list(range(16))  # a random subset: indices name points of the whole test set
    order = torch.randperm(16, generator=torch.Generator().manual_seed(5))
    common = dict(eps_list=[0.1], attacks=["pgd", "apgd-ce"], batch_size=5, pgd_steps=5, diagnostics=False)
    straight = evaluate_robustness(model, x, y, indices=index, **common)
    shuffled = evaluate_robustness(model, x[order], y[order], indices=index[order], **common)
    robust = {int(index[p]) for p in straight["robust_points"]["0.1"]}
    assert robust == {int(index[order][p]) for p in shuffled["robust_points"]["0.1"]}
    assert 0 < len(robust) < int((predict(model, x)[0] == y).sum()), "nothing survived or nothing fell: no test"
