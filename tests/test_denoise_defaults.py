"""The denoising commands agree on their defaults and say what they do: the blind models are the default of
`denoise eval`, `denoise apply` and load_denoiser(None); warnings name models `--model` accepts; `apply` names the
model that ran, refuses a used --out, leaves nothing behind when it fails, and catches a 0-1-scale noise std."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture
def grey_photo(tmp_path):
    from fixtures_images import sample_crops

    rng = np.random.default_rng(0)
    noisy = np.clip(sample_crops(1, 64, grey=True)[0] + rng.normal(0, 25, (64, 64)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "grey.png")
    return tmp_path / "grey.png"


def test_the_python_loader_and_both_commands_default_to_the_blind_models(cli, denoise_sets, tmp_path):
    from advkit.commands.denoise_eval import SHIPPED
    from advkit.denoise.inference import load_denoiser

    G, path, _ = load_denoiser(None, torch.device("cpu"))
    assert path.name == "denoiser-blind-unet16.pt" and G.takes_noise_level
    args = ["--set", str(denoise_sets / "CBSD68"), "--noise-std", "25", "--baselines", "none", "--limit", "1",
            "--device", "cpu", "--quiet"]
    result = cli("denoise", "eval", *args, "--out", str(tmp_path / "default"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "default" / "results.json").read_text())["ckpt"].endswith("denoiser-blind-unet16.pt")
    assert "warning" not in result.output  # the blind model takes sigma 25: nothing to warn about
    # A sigma-50 model at 25 warns, and the model it suggests is one --model accepts.
    result = cli("denoise", "eval", *args, "--model", "quality", "--out", str(tmp_path / "quality"))
    assert result.exit_code == 0, result.output
    suggested = re.search(r"--model ([\w-]+)", result.output).group(1)
    assert suggested in SHIPPED and suggested == "blind"


def test_apply_names_the_model_that_ran(cli, grey_photo, tmp_path):
    result = cli("denoise", "apply", str(grey_photo), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "denoised with denoiser-blind-unet16-grey.pt" in result.stdout, result.stdout
    assert "denoiser-blind-unet16.pt" not in result.stdout


def test_apply_refuses_a_used_out_unless_overwrite(cli, grey_photo, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = cli("denoise", "apply", str(grey_photo), "--out", str(out), "--device", "cpu")
    assert result.exit_code == 2 and "--overwrite" in result.stderr and "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    result = cli("denoise", "apply", str(grey_photo), "--out", str(out), "--device", "cpu", "--overwrite")
    assert result.exit_code == 0, result.output
    assert (out / "grey-denoised.png").is_file() and (out / "mine.txt").read_text() == "keep me"


def test_a_failed_apply_leaves_no_out_folder(cli, grey_photo, tmp_path):
    out = tmp_path / "new" / "out"
    result = cli("denoise", "apply", str(grey_photo), "--model", "quality", "--out", str(out), "--device", "cpu")
    assert result.exit_code == 2 and "grey image" in result.stderr, result.output  # a colour-only model
    assert not (tmp_path / "new").exists()


def test_a_noise_std_below_one_on_an_8_bit_image_warns_about_the_scale(cli, grey_photo, tmp_path):
    result = cli("denoise", "apply", str(grey_photo), "--noise-std", "0.1", "--out", str(tmp_path / "out"),
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "0-255 scale" in result.stderr and "25.5" in result.stderr
    result = cli("denoise", "apply", str(grey_photo), "--noise-std", "2", "--out", str(tmp_path / "out2"),
                 "--device", "cpu")
    assert "0-255 scale" not in result.stderr


def test_export_refuses_to_replace_a_file_unless_overwrite(cli, tmp_path):
    from advkit.denoise.inference import shipped_checkpoint

    args = ["denoise", "export", "--ckpt", str(shipped_checkpoint("fast")), "--out", str(tmp_path), "--name", "g.pt"]
    assert cli(*args).exit_code == 0
    result = cli(*args)
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert cli(*args, "--overwrite").exit_code == 0
