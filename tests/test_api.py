"""The public API: every name in ``advkit.__all__`` imports, is documented with an example, and the examples run;
``import advkit`` loads no torch; ``advkit.denoise`` gives back the array kind it was given."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import advkit
from advkit.errors import AdvkitError


def test_import_advkit_is_cheap():
    code = "import sys, advkit; assert 'torch' not in sys.modules and advkit.__version__"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", advkit.__all__)
def test_every_public_name_imports_and_has_a_documented_example(name):
    value = getattr(advkit, name)
    if name != "__version__":
        assert value.__doc__ and ">>>" in value.__doc__, f"advkit.{name} needs a docstring with an example"


def _examples(obj) -> str:
    lines = [line.strip()[4:] for line in obj.__doc__.splitlines() if line.strip().startswith((">>> ", "... "))]
    return "\n".join(lines)


@pytest.mark.parametrize("name", ["AdvkitError", "load_model", "load_data", "evaluate_robustness", "denoise", "train_gan",
                                  "run_recipe", "GANConfig"])
def test_the_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_examples(getattr(advkit, name)), f"advkit.{name} example", "exec"), {})


def test_attacks_are_reached_from_the_top():
    model, (x, y) = advkit.load_model("default"), advkit.load_data("mnist", n=16)
    x_adv = advkit.attacks.PGD(model, eps=0.1, steps=2)(x, y)
    assert (x_adv - x).abs().max() <= 0.1 + 1e-6


def _noisy_photo() -> np.ndarray:
    from skimage import data

    clean = data.astronaut()[::8, ::8]  # 64 x 64 x 3 uint8
    noise = np.random.default_rng(0).normal(0, 25, clean.shape)
    return clean, np.clip(clean + noise, 0, 255).round().astype(np.uint8)


def test_denoise_keeps_type_layout_and_dtype():
    clean, noisy = _noisy_photo()
    out = advkit.denoise(noisy, sigma=25)  # the numpy uint8 HWC image denoise_tensor refused with an AttributeError
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == noisy.shape
    error = lambda a: np.abs(a.astype(float) - clean).mean()  # noqa: E731
    assert error(out) < 0.7 * error(noisy)  # sigma 25 noise: the blind model removes most of it
    chw = torch.from_numpy(noisy).permute(2, 0, 1).float() / 255
    out_chw = advkit.denoise(chw, sigma=25)
    assert isinstance(out_chw, torch.Tensor) and out_chw.shape == chw.shape and out_chw.dtype == torch.float32
    # Same image, two layouts and dtypes: the same result up to the uint8 rounding of the output.
    assert (out_chw.permute(1, 2, 0) * 255 - torch.from_numpy(out).float()).abs().max() <= 0.5 + 1e-3
    grey = noisy[..., 0]
    out_grey = advkit.denoise(grey.astype(np.float64) / 255, sigma="auto")
    assert out_grey.shape == grey.shape and out_grey.dtype == np.float64
    rgba = np.concatenate([noisy, np.full(noisy.shape[:2] + (1,), 7, np.uint8)], axis=2)
    out_rgba = advkit.denoise(rgba, sigma=25)
    assert out_rgba.shape == rgba.shape and (out_rgba[..., 3] == 7).all()


@pytest.mark.parametrize("bad,match", [("not an image", "numpy array or a torch tensor"),
                                       (np.zeros((8, 8, 5), np.uint8), "1 \\(grey\\), 3"),
                                       (np.full((8, 8), 2.0), "in \\[0, 1\\]"),
                                       (np.zeros((8, 8), np.int64), "uint8, uint16 or float")])
def test_denoise_bad_input_is_one_line(bad, match):
    with pytest.raises(AdvkitError, match=match):
        advkit.denoise(bad)
    with pytest.raises(AdvkitError, match=re.escape("sigma must be in [0, 255]")):
        advkit.denoise(np.zeros((8, 8), np.uint8), sigma=-1)


def test_the_old_fgsm_model_form_keeps_working_with_a_note(monkeypatch):
    from advkit.models import loader

    seen = []
    monkeypatch.setattr(loader, "_torchvision", lambda name, device: seen.append(name) or loader.Victim(None, name, "imagenet", []))
    assert loader.load_victim("torchvision:resnet50", "cpu").note == ""
    assert "torchvision:resnet50" in loader.load_victim("resnet50", "cpu").note
    assert seen == ["resnet50", "resnet50"]
    with pytest.raises(AdvkitError, match="torchvision:resnet50"):
        advkit.load_model("resnet50")
