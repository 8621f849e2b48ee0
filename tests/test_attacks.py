"""FGSM and PGD: closed forms, invariants, agreement with torchattacks, and the `advkit fgsm` command."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from advkit.attacks import FGSM, PGD, Normalized
from advkit.errors import AdvkitError
from advkit.models.classifiers import build_classifier


class Logistic(nn.Module):
    """Binary logistic regression as a 2-logit model: logits [0, w.x + b], so P(y=1) = sigma(w.x + b)."""

    def __init__(self, w: torch.Tensor, b: float):
        super().__init__()
        self.w = nn.Parameter(w.clone())
        self.b = nn.Parameter(torch.tensor(b))

    def forward(self, x):
        s = x.flatten(1) @ self.w + self.b
        return torch.stack([torch.zeros_like(s), s], dim=1)


@pytest.fixture(scope="module")
def mnist_batch():
    from advkit.data import load_dataset

    test = load_dataset("mnist", "test")
    return test.images[:64], test.labels[:64]


def _net(arch: str = "mlp", seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_classifier(arch)


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_fgsm_closed_form_logistic_regression():
    torch.manual_seed(1)
    d = 20
    w, b = torch.randn(d), 0.3
    x = 0.3 + 0.4 * torch.rand(16, d)  # inside (0.3, 0.7): eps = 0.1 never clips
    y = torch.randint(0, 2, (16,))
    x_adv = FGSM(Logistic(w, b), eps=0.1)(x, y)
    # d CE / dx = (sigma(w.x + b) - y) w  (analytic gradient of the logistic loss)
    analytic = (torch.sigmoid(x @ w + b) - y.float())[:, None] * w[None, :]
    # x_adv - x is eps * sign(grad) up to one float32 rounding of x + eps (|x| < 1: <= 6e-8) and of the subtraction
    # (<= 6e-8): 1e-6 is 8x that; a wrong sign anywhere is off by 2 eps = 0.2. The analytic gradient's entries are
    # |sigma - y| |w_i| >= ~1e-3 here, far from 0, so no sign can flip with the summation order.
    assert torch.allclose(x_adv - x, 0.1 * analytic.sign(), atol=1e-6)


def test_eps_zero_is_identity(mnist_batch):
    x, y = mnist_batch
    net = _net()
    assert torch.equal(FGSM(net, 0.0)(x, y), x)
    assert torch.equal(PGD(net, 0.0)(x, y), x)


@settings(max_examples=12, deadline=None)
@given(eps=st.floats(0.0, 0.5), seed=st.integers(0, 2**16), clip=st.booleans())
def test_outputs_valid_and_within_eps(eps, seed, clip):
    torch.manual_seed(seed)
    net = build_classifier("softmax")
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    for attack in (FGSM(net, eps, clip=clip), PGD(net, eps, steps=3, restarts=2, clip=clip)):
        x_adv = attack(x, y)
        assert x_adv.shape == x.shape
        assert (x_adv - x).abs().max() <= eps + 1e-6
        if clip:
            assert x_adv.min() >= 0 and x_adv.max() <= 1


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_no_clip_follows_the_paper():
    net = _net("softmax")
    x, y = torch.zeros(4, 1, 28, 28), torch.arange(4)
    raw = FGSM(net, 0.25, clip=False)(x, y)
    # every pixel moved by exactly eps: 0 + 0.25 * (+-1) is exact in float32 (default rtol 1e-5 never used)
    assert torch.allclose(raw.abs(), torch.full_like(raw, 0.25))
    assert FGSM(net, 0.25)(x, y).min() >= 0


@pytest.mark.parametrize("training", [True, False])
def test_mode_restored(mnist_batch, training):
    x, y = mnist_batch
    net = build_classifier("mlp", dropout=0.5)
    net.train(training)
    FGSM(net, 0.1)(x, y)
    PGD(net, 0.1, steps=2)(x, y)
    assert net.training is training
    assert all(m.training is training for m in net.modules())


def test_attack_runs_in_eval_mode(mnist_batch):
    """With dropout 0.5, a train-mode attack would be random; in eval mode two calls agree."""
    x, y = mnist_batch
    net = build_classifier("mlp", dropout=0.5).train()
    assert torch.equal(FGSM(net, 0.1)(x, y), FGSM(net, 0.1)(x, y))


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_fgsm_equals_torchattacks(mnist_batch):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = mnist_batch
    for arch in ("softmax", "maxout", "cnn"):
        net = _net(arch)
        ours = FGSM(net, 0.1)(x, y)
        ref = torchattacks.FGSM(net, eps=0.1)(x, y)
        # Both take the sign of the same gradient: torchattacks' mean loss is our summed loss / 64, a power of two,
        # so every gradient entry is the same float scaled exactly and no sign can differ on any instruction set.
        # What remains is one rounding of x + eps * sign (<= 6e-8); 1e-6 is 16x that, a wrong sign is 2 eps = 0.2.
        assert (ours - ref).abs().max().item() <= 1e-6, arch


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_equals_torchattacks_same_start(mnist_batch, random_start):
    torchattacks = pytest.importorskip("torchattacks")
    x, y = mnist_batch
    net = _net("cnn")
    torch.manual_seed(123)  # both draw the random start from the global RNG the same way
    ours = PGD(net, 0.3, step=0.01, steps=7, random_start=random_start)(x, y)
    torch.manual_seed(123)
    ref = torchattacks.PGD(net, eps=0.3, alpha=0.01, steps=7, random_start=random_start)(x, y)
    # As for FGSM: the same gradient up to an exact power-of-two scale, so the same signs; 7 steps each round
    # x + alpha * sign once (<= 6e-8), <= 4.2e-7 in all, under 1e-6; a differing sign is >= alpha = 0.01.
    assert (ours - ref).abs().max().item() <= 1e-6


def test_targeted_fgsm_lowers_target_loss(mnist_batch):
    x, _ = mnist_batch
    net = _net("maxout")
    target = torch.full((x.shape[0],), 3)
    x_adv = FGSM(net, 0.05, targeted=True)(x, target)
    with torch.no_grad():
        before = F.cross_entropy(net(x), target, reduction="none")
        after = F.cross_entropy(net(x_adv), target, reduction="none")
    assert after.mean() < before.mean()
    assert (after < before).float().mean() > 0.9


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_results_independent_of_batch_size(mnist_batch):
    x, y = mnist_batch
    net = _net("maxout")
    whole = FGSM(net, 0.1)(x, y)
    parts = torch.cat([FGSM(net, 0.1)(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)])
    # Batches of 64 and 16 may block the matrix products differently (another summation order: gradients differ
    # by ~1e-7 relative), which can flip the sign of a gradient entry within that of zero: a pixel off by 2 eps.
    # Such entries are rare (none seen under the AVX512, AVX2 and generic kernels); a batch-dependent attack
    # (e.g. a model left in training mode) changes thousands. So: values within 1e-6 (one rounding of x + eps
    # * sign) on all but 1 in 10^4 pixels.
    assert ((whole - parts).abs() > 1e-6).float().mean().item() <= 1e-4
    gen = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    pgd_whole = PGD(net, 0.1, steps=3, generator=gen(), random_start=False)(x, y)
    pgd_parts = torch.cat([PGD(net, 0.1, steps=3, generator=gen(), random_start=False)(x[i:i + 16], y[i:i + 16])
                           for i in range(0, 64, 16)])
    assert ((pgd_whole - pgd_parts).abs() > 1e-6).float().mean().item() <= 1e-4  # as above, 3 steps


def test_same_seed_same_output(mnist_batch):
    x, y = mnist_batch
    net = _net("mlp")
    a = PGD(net, 0.2, steps=3, restarts=2, generator=torch.Generator().manual_seed(7))(x, y)
    b = PGD(net, 0.2, steps=3, restarts=2, generator=torch.Generator().manual_seed(7))(x, y)
    c = PGD(net, 0.2, steps=3, restarts=2, generator=torch.Generator().manual_seed(8))(x, y)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_restarts_keep_the_best_iterate_per_sample(mnist_batch):
    x, y = mnist_batch
    net = _net("mlp")
    one = PGD(net, 0.05, steps=2, restarts=1, generator=torch.Generator().manual_seed(3))(x, y)
    many = PGD(net, 0.05, steps=2, restarts=4, generator=torch.Generator().manual_seed(3))(x, y)  # same first start
    with torch.no_grad():
        fooled_one, fooled_many = net(one).argmax(1) != y, net(many).argmax(1) != y
        loss_one = F.cross_entropy(net(one), y, reduction="none")
        loss_many = F.cross_entropy(net(many), y, reduction="none")
    assert bool((fooled_many | ~fooled_one).all())  # never loses a success
    both_failed = ~fooled_one & ~fooled_many
    assert bool((loss_many[both_failed] >= loss_one[both_failed] - 1e-6).all())


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_normalization_in_one_place():
    torch.manual_seed(0)
    inner = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    x, y = torch.rand(6, 3, 4, 4), torch.randint(0, 5, (6,))
    x_adv = FGSM(Normalized(inner, mean, std), 0.03)(x, y)
    m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    xr = x.clone().requires_grad_(True)
    F.cross_entropy(inner((xr - m) / s), y, reduction="sum").backward()
    # The same gradient (normalisation inside the model either way) and its sign; one rounding of x + eps * sign
    # (<= 6e-8) and the clamp: 1e-6 bounds it, a wrong sign is 2 eps = 0.06.
    assert torch.allclose(x_adv, (x + 0.03 * xr.grad.sign()).clamp(0, 1), atol=1e-6)


def test_bad_inputs_are_one_line_errors():
    net = _net("softmax")
    with pytest.raises(AdvkitError, match="in \\[0, 1\\]"):
        FGSM(net, 0.1)(torch.rand(2, 1, 28, 28) * 255, torch.zeros(2, dtype=torch.long))
    with pytest.raises(AdvkitError, match="eps"):
        FGSM(net, -0.1)
    with pytest.raises(AdvkitError, match="labels"):
        FGSM(net, 0.1)(torch.rand(2, 1, 28, 28), torch.zeros(3, dtype=torch.long))


def test_cli_fgsm_default_panda_figure(cli, tmp_path):
    result = cli("fgsm", "--eps", "0.007", "--n", "200", "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    assert (tmp_path / "run" / "images" / "fgsm.png").stat().st_size > 1000
    assert 0 <= data["flip_rate"] <= 1 and len(data["images"]) == 5
    assert data["eps_flipping_half"] is None or data["eps_flipping_half"] > 0.007
    words = " ".join(result.stdout.split())  # rich wraps lines at the terminal width
    assert "would flip half" in words and f"flips {data['flip_rate']:.1%}" in words


def test_cli_googlenet_offline_is_one_line_error(cli, tmp_path):
    result = cli("fgsm", "--model", "googlenet", "--out", str(tmp_path / "run"),
                 env={"TORCH_HOME": str(tmp_path / "empty-torch-home")})
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "googlenet" in lines[0] and "weights" in lines[0]


def _invoke(*args: str):
    """In-process run of `advkit fgsm` (torch is already imported: much faster than a subprocess)."""
    from click.testing import CliRunner

    from advkit.cli.main import cli

    return CliRunner().invoke(cli, ["fgsm", *args])


def test_cli_fgsm_image_target_and_no_clip(tmp_path):
    from advkit.data.paths import assets_root

    digit = sorted(assets_root().glob("mnist-test-*-label-7.png"))[0]
    result = _invoke("--image", str(digit), "--target", "3", "--eps", "0.3", "--no-clip", "--n", "100",
                     "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    assert data["targeted"] and data["target"] == 3 and not data["clip"] and len(data["images"]) == 1
    assert data["images"][0]["pred"] == "7"


def test_cli_fgsm_bad_model_and_eps(tmp_path):
    result = _invoke("--model", "no-such-net", "--out", str(tmp_path / "a"))
    assert result.exit_code == 2 and "torchvision classifier name" in result.output
    result = _invoke("--eps", "0.1,2", "--dataset", "mnist", "--out", str(tmp_path / "b"))
    assert result.exit_code == 2 and "--eps" in result.output


def test_imagenet_path_on_the_shipped_cat(tmp_path):
    """The ImageNet branch (RGB 224x224 crop, Normalized, colour figure) with an untrained torchvision network:
    only the pretrained weights are missing offline, so everything around them is exercised."""
    import torchvision

    from advkit.demos.fgsm import image_mode
    from advkit.models.loader import Victim
    from advkit.attacks import IMAGENET_MEAN, IMAGENET_STD
    from advkit.commands.fgsm import FGSMConfig
    from advkit.runtime.session import open_session
    from advkit.data.paths import assets_root

    torch.manual_seed(0)
    net = Normalized(torchvision.models.mobilenet_v3_small(num_classes=1000), IMAGENET_MEAN, IMAGENET_STD).eval()
    victim = Victim(net, "mobilenet_v3_small", "imagenet", [f"class {k}" for k in range(1000)],
                    [assets_root() / "chelsea.png"])
    assert victim.load_image(victim.default_images[0]).shape == (1, 3, 224, 224)
    config = FGSMConfig(eps="0.007", device="cpu")
    session = open_session("fgsm", config, out=tmp_path / "run", quiet=True)
    try:
        results = image_mode(victim, config, session)
    finally:
        session.run.close()
    assert results["input_dimensions"] == 3 * 224 * 224 and 0 <= results["flip_rate"] <= 1
    assert (tmp_path / "run" / "images" / "fgsm.png").stat().st_size > 10000
