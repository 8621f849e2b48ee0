"""`denoise train --blind`: colour and grey blind models train, validate on a held-out split, export and rebuild."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from advkit.runtime.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """Four skimage photos as a training folder (the last one is held out by --val-split 1)."""
    folder = tmp_path_factory.mktemp("photos")
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        Image.fromarray(getattr(skdata, name)()[:96, :128]).save(folder / f"{name}.png")
    return folder


def test_blind_grey_training_two_steps_then_export_and_denoise(cli, photo_folder, tmp_path):
    """Grey (the colour path is the default trainer's, run by tests/test_denoise_cli.py); one subprocess."""
    from advkit.denoise.export import export_generator, load_generator

    channels = 1
    out = tmp_path / "run"
    result = cli("denoise", "train", "--blind", "--channels", str(channels), "--clip-fraction", "0.5",
                 "--data", str(photo_folder), "--val-split", "1", "--val-images", "1", "--crop", "32",
                 "--batch-size", "4", "--width", "4", "--levels", "2", "--adv-weight", "0", "--steps", "2",
                 "--sample-every", "2", "--device", "cpu", "--quiet", "--out", str(out))
    assert result.exit_code == 0, result.output
    payload = load_checkpoint(out / "checkpoints" / "step-00000002.pt")
    assert payload["models"]["G"]["name"] == "denoise-blind-unet"
    assert payload["models"]["G"]["args"]["channels"] == channels and payload["config"]["blind"] is True
    assert np.isfinite(json.loads((out / "results.json").read_text())["val_psnr"])
    shipped = export_generator(out / "checkpoints" / "best.pt", tmp_path / "g16.pt")
    G, exported = load_generator(shipped)
    assert exported["extra"]["dtype"] == "float16" and next(G.parameters()).dtype == torch.float32
    with torch.no_grad():
        assert G(torch.rand(1, channels, 19, 23), 25.0).shape == (1, channels, 19, 23)


def test_bad_blind_options_are_refused(photo_folder):
    from advkit.errors import AdvkitError
    from advkit.train.denoise import DenoiseConfig, split_files

    with pytest.raises(AdvkitError, match="--val-split"):
        DenoiseConfig(blind=True, val_split=1, val=str(photo_folder))
    with pytest.raises(AdvkitError, match="--clip-fraction"):
        DenoiseConfig(blind=True, clip_fraction=1.5)
    with pytest.raises(AdvkitError, match="--blind"):
        DenoiseConfig(blind=True, arch="original")
    with pytest.raises(AdvkitError, match="--channels"):
        DenoiseConfig(channels=2)
    train, held_out = split_files(str(photo_folder), 1)
    assert len(train) == 3 and [p.name for p in held_out] == ["rocket.png"] and not set(train) & set(held_out)
