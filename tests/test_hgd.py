"""The high-level representation guided denoiser (advkit.defenses.hgd, advkit.train.hgd, `advkit defense
train-hgd`): the purifier keeps shapes and gradients, the guided loss vanishes on clean images and falls with
training, the checkpoint rebuilds the same purifier for `eval defense --purifier hgd:CKPT`, bad specs are one line."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from advkit.defenses import Defended, HGD, load_purifier
from advkit.defenses.hgd import guided_loss, last_hidden
from advkit.errors import AdvkitError
from advkit.models.registry import build_model
from advkit.models.loader import load_model
from advkit.robustness.specs import load_data
from advkit.train.hgd import adversarial_set

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics

torch.set_num_threads(1)


def unet(seed: int = 0, width: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return build_model("denoise-unet", {"channels": 1, "width": width, "levels": 2, "blocks": 1, "residual": True})


def test_purifier_keeps_shape_and_passes_gradients():
    model = unet()
    purifier = HGD(model).eval()
    x = load_data("mnist", 4, seed=0)[0]
    assert torch.equal(purifier(x), x)  # the noise head starts at zero: the untrained HGD is the identity
    nn.init.normal_(model.tail.weight, std=0.1)  # a trained-like head: x_hat differs from x
    x = x.clone().requires_grad_(True)
    x_hat = purifier(x)
    assert x_hat.shape == x.shape and 0 <= x_hat.min() and x_hat.max() <= 1 and not torch.equal(x_hat, x)
    defended = Defended(load_model("default"), purifier)
    assert defended.differentiable and not defended.randomized  # so `eval defense` runs the white-box attack
    (grad,) = torch.autograd.grad(defended(x).logsumexp(1).sum(), x)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_guided_loss_is_zero_on_clean_images_and_positive_off_them():
    net, (x, y) = load_model("default"), load_data("mnist", 16, seed=0)
    noisy = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    for guide in ("logits", "features"):
        assert guided_loss(net, x, x, y, guide).item() == 0.0
        assert guided_loss(net, noisy, x, y, guide).item() > 0
    assert guided_loss(net, x, x, y, "labels").item() == pytest.approx(
        # the same float32 cross-entropy (approx's 1e-6 relative)
        nn.functional.cross_entropy(net(x), y).item())
    # LGD is the mean absolute difference of the logits
    # the same float32 mean of the same differences: ~1e-7 relative
    assert guided_loss(net, noisy, x, y).item() == pytest.approx((net(noisy) - net(x)).abs().mean().item(), rel=1e-6)


def test_features_are_the_input_of_the_last_linear_layer_or_refused():
    net, x = load_model("default"), load_data("mnist", 4, seed=0)[0]
    hidden, logits = last_hidden(net, x)
    assert torch.equal(hidden, net.net[:-1](x)) and torch.equal(logits, net(x))
    no_linear = nn.Sequential(nn.Conv2d(1, 10, 28), nn.Flatten())
    after_linear = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10), nn.Tanh())
    no_hidden = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    for model in (no_linear, after_linear, no_hidden):
        with pytest.raises(AdvkitError, match="--guide logits"):
            last_hidden(model, x)


def test_adversarial_set_is_seeded_and_within_budget():
    net, (x, y) = load_model("default"), load_data("mnist", 40, seed=1)
    make = lambda: adversarial_set(net, x, y, ["fgsm", "pgd"], 0.1, 0.3, 2, 2, 10,  # noqa: E731
                                   torch.Generator().manual_seed(3))
    x_adv, index, eps = make()
    assert x_adv.shape == (80, 1, 28, 28) and torch.equal(index, torch.arange(40).repeat(2))
    assert ((0.1 <= eps) & (eps <= 0.3)).all() and eps.unique().numel() == 8  # one draw per chunk of 10
    assert ((x_adv - x[index]).abs().flatten(1).amax(1) <= eps + 1e-6).all()
    assert torch.equal(make()[0], x_adv)


def test_a_few_steps_lower_the_guided_loss():
    net, (x, y) = load_model("default"), load_data("mnist", 32, seed=2)
    x_adv, index, _ = adversarial_set(net, x, y, ["fgsm"], 0.3, 0.3, 1, 1, 32, torch.Generator().manual_seed(0))
    purifier = HGD(unet(width=8))
    optimizer = torch.optim.Adam(purifier.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = guided_loss(net, purifier(x_adv), x[index], y[index], "logits")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


def _cli(*args):
    from click.testing import CliRunner

    from advkit.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_train_command_checkpoint_round_trips_into_eval_defense(tmp_path):
    out = tmp_path / "hgd"
    result = _cli("defense", "train-hgd", "--steps", "4", "--batch-size", "8", "--sample-every", "2", "--log-every",
                  "2", "--train-size", "40", "--val-size", "20", "--copies", "1", "--chunk", "20", "--attack-steps",
                  "1", "--width", "4", "--guide", "features", "--report-n", "4", "--report-pgd-steps", "1",
                  "--no-report-autoattack", "--device", "cpu", "--quiet", "--out", str(out))
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    best = out / "checkpoints" / "best.pt"
    from advkit.data.paths import portable_path  # results.json records paths of no one machine

    assert results["checkpoint"] == portable_path(best) and results["best_step"] in (2, 4)
    assert results["guide"] == "features"
    assert set(results["defense"]["accuracy"]) == {"clean", "oblivious", "white-box", "bpda", "worst_case"}
    # Rebuilt from the checkpoint alone, the purifier is the trained network at its best step.
    from advkit.runtime.checkpoint import load_checkpoint

    payload = load_checkpoint(best)
    assert payload["step"] == results["best_step"] and payload["config"]["guide"] == "features"
    model = unet(width=4)
    model.load_state_dict(payload["state"]["denoiser"])
    x = load_data("mnist", 4, seed=0)[0]
    assert torch.equal(load_purifier(f"hgd:{best}")(x), HGD(model).eval()(x))
    evaluated = _cli("eval", "defense", "--purifier", f"hgd:{best}", "--n", "4", "--pgd-steps", "1",
                     "--no-autoattack", "--device", "cpu", "--quiet", "--out", str(tmp_path / "eval"))
    assert evaluated.exit_code == 0, evaluated.output
    accuracy = json.loads((tmp_path / "eval" / "results.json").read_text())["accuracy"]
    assert accuracy == results["defense"]["accuracy"]  # the same points, attacks and seed as the training report


@pytest.mark.parametrize("args", [
    ["eval", "defense", "--purifier", "hgd", "--n", "2"],
    ["eval", "defense", "--purifier", "hgd:no/such/file.pt", "--n", "2"],
    ["eval", "defense", "--purifier", "hgd:advkit/assets/mnist-cnn.pt", "--n", "2"],  # a classifier, not HGD
    ["defense", "train-hgd", "--attacks", "fgsm,cw"],
    ["defense", "train-hgd", "--eps-max", "0"],
    ["defense", "train-hgd", "--guide", "pixels"],
])
def test_bad_input_is_one_line_and_exit_2(args, tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from advkit.cli.main import main

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    with pytest.raises(SystemExit) as info:
        main([*args, "--device", "cpu", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert info.value.code == 2 and len(lines) == 1 and lines[0].startswith("Error:"), err


def test_a_white_box_break_is_not_called_obfuscated_gradients():
    from advkit.defenses.evaluate import conclusion

    measured = {"clean": 0.97, "oblivious": 0.955, "white-box": 0.0, "bpda": 0.955, "autoattack": 0.0}
    text = conclusion(measured, 0.3)  # HGD's shape: the gradient through the denoiser works, nothing is hidden
    assert text.startswith("not robust") and "white-box" in text and "obfuscated" not in text
