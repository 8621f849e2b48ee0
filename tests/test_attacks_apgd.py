"""APGD / APGD-T / FAB-T against torchattacks' port of the authors' code, on the same random starts; Square;
edge cases.

The model is a tiny convolutional net with a fixed random init and the labels are its own predictions (every point
starts correctly classified), on 16 vendored MNIST test digits.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advkit.attacks import APGD, APGDT, FAB, FGSM, Square
from advkit.attacks.fab import project_l2_onto_hyperplane_box, project_linf_onto_hyperplane_box
from advkit.data import load_dataset
from advkit.errors import AdvkitError
from advkit.runtime.modules import eval_mode

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


def tiny_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 5, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 12 * 12, 10)).eval()


@pytest.fixture(scope="module")
def setup():
    net = tiny_cnn()
    x = load_dataset("mnist", "test").subset(16).images
    with torch.no_grad():
        y = net(x).argmax(1)
    return net, x, y


def robust(net: nn.Module, x_adv: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(x_adv.to(next(net.parameters()).dtype)).argmax(1) == y


def assert_same_images(a: torch.Tensor, b: torch.Tensor) -> None:
    """Equal up to float noise: advkit drops fooled points from the batch, and a different batch size may
    round the convolution differently, which can flip the sign of a near-zero gradient pixel now and then."""
    # Error analysis: a step moves a pixel by eta * sign(grad) (L-inf) or eta * grad / |grad| (L2) with eta ~ eps;
    # float32 rounding of a 20-step path is ~20 * 6e-8 ~ 1e-6, so 1e-5 separates rounding from a different
    # move; a sign flip of a near-zero gradient pixel (another batch size, another summation order) moves one
    # pixel by up to 2 eps = 0.02 early on but is projected back, and stays under 1e-3 by the end in every run
    # seen; such pixels are rare (<< 0.1%), while a real difference (another step schedule) moves most pixels.
    diff = (a - b).abs()
    assert diff.max() <= 1e-3 and (diff > 1e-5).float().mean() <= 1e-3


def single_run(attack: APGD, x, y, target=None):
    """advkit's run_once as the attack's __call__ would run it."""
    attack.num_classes = 10
    with eval_mode(attack.model), torch.enable_grad():
        return attack.run_once(x, y, target)


# Epsilons at which some points survive 20 iterations and some do not: both branches of the code run.
CASES = [("Linf", "ce", 0.01), ("Linf", "dlr", 0.01), ("L2", "ce", 0.4), ("L2", "dlr", 0.25)]


@pytest.mark.parametrize("norm,loss,eps", CASES)
def test_apgd_run_matches_torchattacks_point_by_point(setup, norm, loss, eps):
    """Same random start (seed 0): the same points are fooled, and for the others the best iterate and its loss
    agree to float tolerance after the whole schedule of checkpoints, step halvings and restarts from the best."""
    torchattacks = pytest.importorskip("torchattacks")
    net, x, y = setup
    ours = APGD(net, eps, norm=norm, loss=loss, n_iter=20, generator=torch.Generator().manual_seed(0))
    adv, fooled, best_loss = single_run(ours, x, y)
    ref = torchattacks.APGD(net, norm=norm, eps=eps, steps=20, loss=loss)
    torch.manual_seed(0)
    ref_best, ref_acc, ref_loss, _ = ref.attack_single_run(x, y)
    assert torch.equal(fooled, ~ref_acc)
    assert 0 < fooled.sum() < len(y)
    kept = ~fooled
    assert_same_images(adv[kept], ref_best[kept])
    # Losses are O(1) (CE) or in [-1, 1] (DLR): a float32 forward of this CNN (~10^3 products per logit, error
    # ~sqrt(10^3) * 6e-8 ~ 2e-6 relative) evaluated at images equal to 1e-5 moves them by ~1e-6: 1e-5 bounds it.
    assert torch.allclose(best_loss[kept], ref_loss[kept], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm,eps", [("Linf", 0.01), ("L2", 0.4)])
def test_apgdt_run_matches_torchattacks(setup, norm, eps):
    torchattacks = pytest.importorskip("torchattacks")
    net, x, y = setup
    ours = APGDT(net, eps, norm=norm, n_iter=20, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        target = net(x).sort(dim=1)[1][:, -2]  # the runner-up class: the first of the 9 targets
    adv, fooled, best_loss = single_run(ours, x, y, target)
    ref = torchattacks.APGDT(net, norm=norm, eps=eps, steps=20, n_classes=10)
    ref.target_class = 2
    torch.manual_seed(0)
    ref_best, ref_acc, ref_loss, _ = ref.attack_single_run(x, y)
    assert torch.equal(fooled, ~ref_acc)
    kept = ~fooled
    if norm == "Linf":  # torchattacks' L2 APGD-T steps every sample by the first one's step size (its bug)
        assert_same_images(adv[kept], ref_best[kept])
        assert torch.allclose(best_loss[kept], ref_loss[kept], atol=1e-5, rtol=1e-5)  # as in the test above


@pytest.mark.parametrize("kind", ["ce-restarts", "dlr", "apgd-t"])
def test_robust_accuracy_equals_torchattacks(setup, kind):
    """Whole attacks, restarts and all 9 targets included: the same points survive."""
    torchattacks = pytest.importorskip("torchattacks")
    net, x, y = setup
    g = torch.Generator().manual_seed(0)
    if kind == "apgd-t":
        ours, ref = APGDT(net, 0.01, n_iter=10, generator=g), torchattacks.APGDT(net, eps=0.01, steps=10)
    else:
        loss, restarts = ("ce", 2) if kind == "ce-restarts" else ("dlr", 1)
        ours = APGD(net, 0.01, loss=loss, n_iter=10, restarts=restarts, generator=g)
        ref = torchattacks.APGD(net, eps=0.01, steps=10, loss=loss, n_restarts=restarts)
    assert torch.equal(robust(net, ours(x, y), y), robust(net, ref(x, y), y))


def test_fab_projection_equals_torchattacks_and_lands_on_the_hyperplane():
    fab = pytest.importorskip("torchattacks.attacks.fab")
    torch.manual_seed(1)
    t, w, b = torch.rand(64, 50), torch.randn(64, 50), 15 * torch.randn(64)
    w[:, :5] = 0  # coordinates the hyperplane ignores do not move
    d = project_linf_onto_hyperplane_box(t, w, b)
    assert torch.equal(d, fab.projection_linf(t, w, b))
    assert (d[:, :5] == 0).all() and (t + d).min() >= 0 and (t + d).max() <= 1
    # |w.(t + d) - b|: a 50-term float32 sum of terms up to ~|w| ~ 3 (error ~50 * 3 * 6e-8 ~ 1e-5 worst case)
    # against b ~ 15: 1e-4 means "on the hyperplane"; an unreached one is off by O(1).
    reached = ((w * (t + d)).sum(1) - b).abs() <= 1e-4
    assert 0.5 < reached.float().mean() < 1
    # Where the hyperplane lies beyond the box, the move goes all the way to the box's corner towards it.
    towards = torch.sign((w * t).sum(1) - b)[:, None] * w
    full = ((towards < 0).float() - t) * (w != 0)
    assert torch.allclose(d[~reached], full[~reached])  # the corner is exact: values -t or 1 - t, no arithmetic


def test_fab_l2_projection_equals_torchattacks_and_is_feasible():
    fab = pytest.importorskip("torchattacks.attacks.fab")
    torch.manual_seed(2)
    t, w, b = torch.rand(64, 50), torch.randn(64, 50), 10 * torch.randn(64)
    d = project_l2_onto_hyperplane_box(t, w, b)
    assert torch.equal(d, fab.projection_l2(t, w, b))
    assert (t + d).min() >= -1e-6 and (t + d).max() <= 1 + 1e-6  # one rounding of t + d (<= 6e-8) past the box
    reached = ((w * (t + d)).sum(1) - b).abs() <= 1e-4  # as in the L-inf test
    assert 0.5 < reached.float().mean() < 1
    # Where it is reached without touching the box, the step is the plain orthogonal one, along w.
    free = reached & ((t + d) > 1e-6).all(1) & ((t + d) < 1 - 1e-6).all(1)
    assert free.any()
    plain = -(((w * t).sum(1) - b) / (w ** 2).sum(1))[:, None] * w
    # both are -(w.t - b) / |w|^2 * w, computed in another order (50-term sums, ~1e-6 relative, steps ~1): 1e-5
    assert torch.allclose(d[free], plain[free], atol=1e-5)


@pytest.mark.parametrize("norm,eps", [("Linf", 0.01), ("Linf", 0.02), ("L2", 0.3)])
def test_fab_t_robust_accuracy_equals_torchattacks(setup, norm, eps):
    """FAB-T over the 9 targets: the same points are fooled within eps as by torchattacks' FAB(multi_targeted)."""
    torchattacks = pytest.importorskip("torchattacks")
    net, x, y = setup
    ours = robust(net, FAB(net, eps, norm=norm, n_iter=10)(x, y), y)
    ref = torchattacks.FAB(net, norm=norm, eps=eps, steps=10, multi_targeted=True, n_classes=10)
    ref = robust(net, ref(x, y), y)
    assert torch.equal(ours, ref)
    assert 0 < ours.sum() < len(y)


@pytest.mark.parametrize("norm,eps", [("Linf", 0.02), ("L2", 0.5)])
def test_outputs_in_ball_and_image_range(setup, norm, eps):
    net, x, y = setup
    attacks = [APGD(net, eps, norm=norm, n_iter=8), APGD(net, eps, norm=norm, loss="dlr", n_iter=8, restarts=2),
               APGDT(net, eps, norm=norm, n_iter=8, n_target_classes=3)]
    attacks += [Square(net, eps, norm=norm, n_queries=50, generator=torch.Generator().manual_seed(0)),
                FAB(net, eps, norm=norm, n_iter=8, n_target_classes=3, restarts=2)]
    for attack in attacks:
        x_adv = attack(x, y)
        d = (x_adv - x).flatten(1)
        size = d.abs().amax(1) if norm == "Linf" else d.norm(dim=1)
        assert size.max() <= eps + 1e-5, type(attack).__name__
        assert x_adv.min() >= 0 and x_adv.max() <= 1
        assert x_adv.dtype == torch.float32 and x_adv.shape == x.shape


def test_apgd_is_stronger_than_pgd_fgsm_and_keeps_first_success(setup):
    net, x, y = setup
    x_adv = APGD(net, 0.01, n_iter=20, generator=torch.Generator().manual_seed(0))(x, y)
    fooled = ~robust(net, x_adv, y)
    assert fooled.sum() >= (~robust(net, FGSM(net, 0.01)(x, y), y)).sum()
    # Points it could not fool get their highest-loss iterate, not the clean image.
    assert (x_adv[~fooled] != x[~fooled]).any()


def test_targeted_apgd_and_square_reach_the_target(setup):
    """targeted=True: y holds the targets (here the runner-up classes), and success means predicting them."""
    net, x, _ = setup
    with torch.no_grad():
        target = net(x).sort(dim=1)[1][:, -2]
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    for attack, rate in ((APGD(net, 0.02, n_iter=10, targeted=True, generator=g()), 0.5),
                         (Square(net, 0.02, n_queries=300, targeted=True, generator=g()), 0.25)):
        with torch.no_grad():
            hit = net(attack(x, target)).argmax(1) == target  # none on the clean images
        assert hit.float().mean() >= rate, type(attack).__name__
    with pytest.raises(AdvkitError, match="APGDT"):
        APGD(net, 0.02, loss="dlr", targeted=True)


def test_seeded_generator_reproduces(setup):
    net, x, y = setup
    a = APGD(net, 0.01, n_iter=10, generator=torch.Generator().manual_seed(3))(x, y)
    b = APGD(net, 0.01, n_iter=10, generator=torch.Generator().manual_seed(3))(x, y)
    c = Square(net, 0.02, n_queries=30, generator=torch.Generator().manual_seed(3))(x, y)
    d = Square(net, 0.02, n_queries=30, generator=torch.Generator().manual_seed(3))(x, y)
    assert torch.equal(a, b) and torch.equal(c, d)


def test_eps_zero_returns_x(setup):
    net, x, y = setup
    for attack in (APGD(net, 0.0), APGDT(net, 0.0, norm="L2"), Square(net, 0.0), Square(net, 0.0, norm="L2"),
                   FAB(net, 0.0), FAB(net, 0.0, norm="L2")):
        assert torch.equal(attack(x, y), x)


class RaisingBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("this model has no usable gradient")


class NoGradientModel(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(RaisingBackward.apply(x))


def test_square_needs_no_gradient(setup):
    net, x, y = setup
    model = NoGradientModel(net)
    with pytest.raises(RuntimeError, match="no usable gradient"):  # the model really breaks gradient attacks
        APGD(model, 0.05, n_iter=2)(x, y)
    x_adv = Square(model, 0.05, n_queries=100, generator=torch.Generator().manual_seed(0))(x, y)
    assert (~robust(net, x_adv, y)).sum() >= 4
    # The same search as on the plain net: only forward passes were used.
    assert torch.equal(x_adv, Square(net, 0.05, n_queries=100, generator=torch.Generator().manual_seed(0))(x, y))
    assert (x_adv - x).abs().max() <= 0.05 + 1e-6


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16])
def test_float64_and_float16_models(setup, dtype):
    """Inputs and gradients stay float32; the forward runs in the model's dtype."""
    net, x, y = setup
    model = tiny_cnn().to(dtype)
    for attack in (APGD(model, 0.02, n_iter=8), APGDT(model, 0.02, n_iter=4, n_target_classes=2),
                   Square(model, 0.02, n_queries=20), FAB(model, 0.02, n_iter=4, n_target_classes=2),
                   FGSM(model, 0.02)):
        x_adv = attack(x, y)
        assert x_adv.dtype == torch.float32 and torch.isfinite(x_adv).all()
        assert (x_adv - x).abs().max() <= 0.02 + 1e-6
    # float64 agrees with float32 on which points APGD fools.
    if dtype == torch.float64:
        g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
        assert torch.equal(robust(model, APGD(model, 0.02, n_iter=8, generator=g())(x, y), y),
                           robust(net, APGD(net, 0.02, n_iter=8, generator=g())(x, y), y))


@pytest.mark.parametrize("labels,match", [
    (torch.zeros(16, 1, dtype=torch.long), "1-D"),
    (torch.zeros(16), "integer"),
    (torch.zeros(15, dtype=torch.long), "one label per image"),
    (torch.full((16,), 10), r"\[0, 10\)"),
    (torch.full((16,), -1), r"\[0, 10\)"),
])
def test_bad_labels_are_one_line_errors(setup, labels, match):
    net, x, _ = setup
    for attack in (APGD(net, 0.01, n_iter=2), Square(net, 0.01, n_queries=2)):
        with pytest.raises(AdvkitError, match=match) as info:
            attack(x, labels)
        assert "\n" not in info.value.message


def test_bad_arguments():
    net = tiny_cnn()
    with pytest.raises(AdvkitError, match="eps"):
        APGD(net, 2.0)                      # L-inf eps beyond the image range
    APGD(net, 2.0, norm="L2")               # an L2 budget may exceed 1
    with pytest.raises(AdvkitError, match="norm"):
        APGD(net, 0.1, norm="L1")
    with pytest.raises(AdvkitError, match="loss"):
        APGD(net, 0.1, loss="hinge")
    with pytest.raises(AdvkitError, match="3 classes"):
        two_class = nn.Sequential(nn.Flatten(), nn.Linear(784, 2))
        APGD(two_class, 0.1, loss="dlr", n_iter=2)(torch.rand(2, 1, 28, 28), torch.zeros(2, dtype=torch.long))
