"""Denoised smoothing: the denoiser front (shipped blind denoiser told sigma, a `denoise train` checkpoint, a
TorchScript file), the stability-trained denoiser for a frozen classifier, and certify --denoiser end to end."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from torch import nn

from advkit.certify.denoised import DenoiserFront, denoised_classifier, load_front
from advkit.certify.smoothing import Smoothed
from advkit.cli.main import main
from advkit.runtime.checkpoint import load_checkpoint


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_an_identity_denoiser_certifies_exactly_what_the_classifier_alone_does():
    torch.manual_seed(0)
    classifier = nn.Sequential(nn.Flatten(), nn.Linear(16, 3)).eval()
    x = torch.rand(1, 4, 4)
    alone = Smoothed(classifier, 0.25, 300, seed=1).certify(x, 5, 50, 1000, 0.001)
    front = denoised_classifier(DenoiserFront(Identity(), 0.25), classifier)
    assert Smoothed(front, 0.25, 300, seed=1).certify(x, 5, 50, 1000, 0.001) == alone


def test_shipped_blind_denoiser_is_told_sigma_on_the_255_scale():
    front = load_front("blind-grey", 0.25, "cpu")
    assert front.blind and front.sigma == 0.25
    noisy = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(front(noisy), front.model(noisy, 63.75))


def test_torchscript_denoiser_and_bad_specs(tmp_path):
    with warnings.catch_warnings():  # torch deprecates TorchScript; advkit still reads it
        warnings.simplefilter("ignore")
        torch.jit.script(Identity()).save(str(tmp_path / "identity.ts"))
    front = load_front(str(tmp_path / "identity.ts"), 0.5)
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(front(x), x)
    from advkit.errors import AdvkitError

    with pytest.raises(AdvkitError, match="neither a shipped denoiser"):
        load_front(str(tmp_path / "missing.pt"), 0.5)


def test_stability_denoiser_trains_with_the_classifier_frozen_and_certifies(tmp_path):
    out = tmp_path / "den"
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", "train", "--data", "mnist", "--channels", "1", "--val-split", "100", "--val-images", "40",
              "--noise-std", "63.75", "--width", "4", "--levels", "1", "--batch-size", "8", "--steps", "3",
              "--adv-weight", "0", "--content-loss", "l2", "--classifier", "default", "--classifier-weight", "1",
              "--sample-every", "3", "--checkpoint-every", "3", "--device", "cpu", "--out", str(out), "--quiet"])
    assert exit_info.value.code == 0
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("stability" in line for line in lines) and any("val_agreement" in line for line in lines)
    assert (out / "checkpoints" / "best.pt").is_file()
    payload = load_checkpoint(out / "checkpoints" / "best.pt")
    assert list(payload["models"]) == ["G"]  # the classifier is not part of what was trained
    with pytest.raises(SystemExit) as exit_info:
        main(["certify", "--model", "default", "--denoiser", str(out / "checkpoints" / "best.pt"), "--sigma", "0.25",
              "--n", "3", "--samples", "200", "--n0", "20", "--device", "cpu", "--out", str(tmp_path / "cert"),
              "--quiet"])
    assert exit_info.value.code == 0
    results = json.loads((tmp_path / "cert" / "results.json").read_text())
    assert results["n"] == 3 and results["denoiser"].endswith("best.pt")


def test_classifier_options_are_checked(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", "train", "--data", "mnist", "--channels", "1", "--classifier", "default", "--blind",
              "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "--classifier trains a fixed-sigma denoiser" in capsys.readouterr().err
