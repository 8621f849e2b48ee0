"""Training for randomized smoothing: the Gaussian-augmentation and consistency objectives (closed-form checks) and
``advtrain --method gaussian / consistency`` end to end."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from advkit.certify.noise_training import consistency_objective, gaussian_objective
from advkit.cli.main import main


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 5))


def test_gaussian_objective_is_cross_entropy_on_the_noisy_batch():
    net, x, y = _net(), torch.rand(6, 1, 4, 4), torch.arange(6) % 5
    loss, _ = gaussian_objective(net, x, y, 0.5, torch.Generator().manual_seed(1))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1)) * 0.5
    # the same noise, the same float32 ops on a 16-input net: identical up to a rounding or two of O(1) values
    assert loss.item() == pytest.approx(F.cross_entropy(net(x + noise), y).item(), rel=1e-6)


def test_consistency_objective_terms():
    net, x, y = _net(), torch.rand(6, 1, 4, 4), torch.arange(6) % 5
    # weights 0: the mean cross-entropy over the copies, drawn as one [copies * B] block
    loss, parts = consistency_objective(net, x, y, 0.5, copies=3, weight=0.0, entropy=0.0,
                                        generator=torch.Generator().manual_seed(2))
    noise = torch.randn((18, 1, 4, 4), generator=torch.Generator().manual_seed(2)) * 0.5
    assert loss.item() == pytest.approx(F.cross_entropy(net(x.repeat(3, 1, 1, 1) + noise), y.repeat(3)).item(), rel=1e-6)
    assert parts["consistency"] >= 0 and parts["entropy"] >= 0
    # a classifier blind to its input agrees with itself on every copy: KL 0, entropy of its one prediction
    constant = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))
    nn.init.zeros_(constant[1].weight)
    _, parts = consistency_objective(constant, x, y, 0.5, copies=2, generator=torch.Generator().manual_seed(3))
    p = F.softmax(constant[1].bias, 0)
    assert parts["consistency"] == pytest.approx(0.0, abs=1e-6)  # float32 rounding of equal distributions
    # a float32 mean over copies of the same 5-term entropy vs one evaluation: a few roundings (~1e-7 relative)
    assert parts["entropy"] == pytest.approx(-(p * p.log()).sum().item(), rel=1e-5)


@pytest.mark.parametrize("method", ["gaussian", "consistency"])
def test_advtrain_trains_on_noise(tmp_path, method):
    out = tmp_path / method
    with pytest.raises(SystemExit) as exit_info:
        main(["advtrain", "--arch", "cnn", "--method", method, "--sigma", "0.5", "--steps", "4", "--batch-size", "8",
              "--sample-every", "4", "--checkpoint-every", "4", "--eval-size", "20", "--report-size", "20",
              "--report-pgd-steps", "0", "--device", "cpu", "--out", str(out), "--quiet"])
    assert exit_info.value.code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == method
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert sum("loss" in line for line in lines) >= 1
    assert all(torch.isfinite(torch.tensor(line["loss"])) for line in lines if "loss" in line)
    config = json.loads((out / "config.json").read_text())
    assert config["sigma"] == 0.5 and config["method"] == method


def test_cnn_width_is_an_option_and_the_checkpoint_rebuilds_it(tmp_path):
    from advkit.models.loader import load_model

    out = tmp_path / "wide"
    with pytest.raises(SystemExit) as exit_info:
        main(["advtrain", "--arch", "cnn", "--channels", "8", "--method", "gaussian", "--steps", "2", "--batch-size",
              "8", "--sample-every", "2", "--checkpoint-every", "2", "--eval-size", "20", "--report-size", "20",
              "--report-pgd-steps", "0", "--device", "cpu", "--out", str(out), "--quiet"])
    assert exit_info.value.code == 0
    model = load_model(str(out / "checkpoints" / "final.pt"), "cpu")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16]  # rebuilt from the file alone, at the trained width
    with pytest.raises(SystemExit) as exit_info:
        main(["advtrain", "--arch", "cnn", "--channels", "0", "--out", str(tmp_path / "bad"), "--quiet"])
    assert exit_info.value.code == 2
