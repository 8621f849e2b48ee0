"""GAN objectives against their formulas, the gradient penalty against finite differences, WGAN clipping,
spectral normalization, and the shapes of every generator/discriminator variant."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.gan.loss_catalog import loss_names
from advkit.gan.losses import clip_weights, d_loss, g_loss, gradient_penalty

LOSSES = loss_names()
from advkit.models.registry import build_model

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics

R = torch.tensor([2.0, -0.5, 0.0])   # D's logits on real samples
F_ = torch.tensor([-1.0, 0.3, 3.0])  # D's logits on generated samples


def _sig(t: float) -> float:
    return 1 / (1 + math.exp(-t))


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def test_minimax_and_ns_match_the_paper_formulas():
    # L_D = -mean log D(x) - mean log(1 - D(G(z))), by hand with D = sigmoid(logit).
    expected_d = -_mean(math.log(_sig(r)) for r in R.tolist()) - _mean(math.log(1 - _sig(f)) for f in F_.tolist())
    for loss in ("minimax", "ns"):
        # float32 losses (means of ~10 logs, error ~10 * 6e-8) against float64 formulas: 1e-6 relative
        assert d_loss(loss, R, F_).item() == pytest.approx(expected_d, rel=1e-6)
    assert g_loss("minimax", F_).item() == pytest.approx(_mean(math.log(1 - _sig(f)) for f in F_.tolist()), rel=1e-6)
    assert g_loss("ns", F_).item() == pytest.approx(-_mean(math.log(_sig(f)) for f in F_.tolist()), rel=1e-6)


def test_wasserstein_and_hinge_match_their_formulas():
    # the same float32 means subtracted: equal up to one rounding of O(1) values
    assert d_loss("wgan", R, F_).item() == pytest.approx(F_.mean().item() - R.mean().item(), abs=1e-7)
    assert d_loss("wgan-gp", R, F_).item() == pytest.approx(F_.mean().item() - R.mean().item(), abs=1e-7)
    hinge = _mean(max(0.0, 1 - r) for r in R.tolist()) + _mean(max(0.0, 1 + f) for f in F_.tolist())
    # float32 vs float64 means of ~10 terms: 1e-6
    assert d_loss("hinge", R, F_).item() == pytest.approx(hinge, rel=1e-6)
    for loss in ("wgan", "wgan-gp", "hinge"):
        assert g_loss(loss, F_).item() == pytest.approx(-F_.mean().item(), abs=1e-7)


def test_losses_are_finite_for_huge_logits_and_minimax_saturates():
    big = torch.tensor([80.0, -80.0])
    for loss in LOSSES:
        assert torch.isfinite(d_loss(loss, big, -big)) and torch.isfinite(g_loss(loss, big))
    # The saturating loss gives (almost) no gradient when D confidently rejects the fake; ns gives a strong one.
    f = torch.tensor([-10.0], requires_grad=True)
    (grad_mm,) = torch.autograd.grad(g_loss("minimax", f), f)
    (grad_ns,) = torch.autograd.grad(g_loss("ns", f), f)
    # saturation: sigma(-10) ~ 4.5e-5 is the minimax gradient; the ns gradient is 1 - 4.5e-5
    assert abs(grad_mm.item()) < 1e-4 < 0.99 < abs(grad_ns.item())
    with pytest.raises(AdvkitError):
        d_loss("lsgan", R, F_)


def test_gradient_penalty_matches_finite_differences():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).double()
    real, fake = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    gp = gradient_penalty(lambda x: D(x).view(-1), real, fake, generator=torch.Generator().manual_seed(3))
    # Rebuild the same interpolates and differentiate D numerically (central differences).
    eps = torch.rand((5, 1), generator=torch.Generator().manual_seed(3)).double()
    x_hat, h = eps * real + (1 - eps) * fake, 1e-6
    norms = []
    for i in range(5):
        grad = [(D(x_hat[i] + h * e).item() - D(x_hat[i] - h * e).item()) / (2 * h) for e in torch.eye(3, dtype=torch.float64)]
        norms.append(math.sqrt(sum(g * g for g in grad)))
    # float64 throughout; central differences of an affine-in-h function are exact up to rounding (h = 1e-6: ~1e-10
    # relative); 1e-6
    assert gp.item() == pytest.approx(_mean((n - 1) ** 2 for n in norms), rel=1e-6)
    gp.backward()  # create_graph=True: the penalty trains D
    weights = [p for p in D.parameters() if p.dim() == 2]  # biases do not change grad_x D, so get no gradient
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


def test_weight_clipping_bounds_every_parameter():
    D = build_model("dcgan-d", {"image_size": 28})
    for p in D.parameters():
        nn.init.normal_(p, 0, 1)
    clip_weights(D, 0.01)
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.01
    # clamp to 0.01 stores float32(0.01): approx's 1e-6 relative covers the float32 vs float64 value
    assert min(p.abs().max().item() for p in D.parameters()) == pytest.approx(0.01)  # clamped, not zeroed


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_spectral_norm_largest_singular_value_is_one(arch):
    torch.manual_seed(0)
    D = build_model(f"{arch}-d", {"spectral_norm": True} if arch == "mlp" else {"spectral_norm": True, "norm": "none"})
    layers = [m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():  # make the raw weights clearly non-normalized (largest singular value >> 1)
        for m in layers:
            m.parametrizations.weight.original.mul_(20)
    x = torch.randn(8, 1, 28, 28)
    for _ in range(100):  # each training-mode forward runs one power iteration
        D(x)
    D.eval()
    assert layers
    for m in layers:
        raw = m.parametrizations.weight.original.detach().reshape(m.weight.shape[0], -1)
        assert torch.linalg.matrix_norm(raw, ord=2) > 2
        sigma = torch.linalg.matrix_norm(m.weight.detach().reshape(m.weight.shape[0], -1), ord=2).item()
        # spectral norm's power iteration (one step per training forward, 100 here) converges geometrically to the
        # top singular vector; 5% bounds what remains when the top two singular values are close
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_model_shapes_conditional_and_packing():
    for size in (28, 32, 64):
        G = build_model("dcgan-g", {"image_size": size, "channels": 3, "num_classes": 10})
        D = build_model("dcgan-d", {"image_size": size, "channels": 3, "num_classes": 10, "pack": 2})
        y = torch.arange(4)
        x = G(G.noise(4, torch.Generator().manual_seed(0)), y)
        assert x.shape == (4, 3, size, size) and x.abs().max() <= 1
        assert D(x, y).shape == (2,)
    G = build_model("mlp-g", {})
    assert [tuple(p.shape) for p in G.parameters()] == [(128, 100), (128,), (784, 128), (784,)]  # the source's sizes
    z = G.noise(1000, torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1 and z.min() < -0.99  # uniform on [-1, 1]
    # std of n ~ 10^4 initial weights: sampling error ~1/sqrt(2n) < 1%, 5% allowed
    assert G.net[0].weight.std().item() == pytest.approx(math.sqrt(2 / 100), rel=0.05)  # the source's init
    images = G.images(z[:4])
    assert images.shape == (4, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    with pytest.raises(AdvkitError, match="multiple of the pack"):
        build_model("mlp-d", {"pack": 4})(torch.rand(6, 1, 28, 28))
    with pytest.raises(AdvkitError, match="28, 32 or 64"):
        build_model("dcgan-g", {"image_size": 48})
