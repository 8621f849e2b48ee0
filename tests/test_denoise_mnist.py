"""`denoise train --data mnist`: whole unflipped training digits, validation on held-out training images (never the
test split), and the checkpoint as the purifier ``denoiser:CKPT`` on [N, 1, 28, 28] digits, gradients and all."""

from __future__ import annotations

import math

import pytest
import torch

import advkit.data
import advkit.train.denoise
from advkit.errors import AdvkitError
from advkit.runtime.session import open_session
from advkit.train.denoise import DenoiseTrainer, training_crops
from advkit.train.denoise_config import DenoiseConfig

HELD_OUT = 100


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(trainer, checkpoint, the training split's images): three steps of a width-4 U-Net."""
    splits = []
    load = advkit.data.load_dataset

    def recording_load(name, split="train", *args, **kwargs):
        splits.append(split)
        return load(name, split, *args, **kwargs)

    config = DenoiseConfig(data="mnist", channels=1, val_split=HELD_OUT, val_images=3, width=4, levels=2,
                           batch_size=8, steps=3, sample_every=3, checkpoint_every=3, adv_weight=0, grid=4,
                           noise_std=75, device="cpu")
    out = tmp_path_factory.mktemp("mnist-denoiser") / "run"
    advkit.train.denoise._training_split_uint8.cache_clear()  # so that this run reads the data, and is seen doing so
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(advkit.data, "load_dataset", recording_load)
        with open_session("denoise-train", config, out=out, quiet=True) as session:
            trainer = DenoiseTrainer(config, session)
            figures = trainer.fit()
    assert math.isfinite(figures["loss_g"]) and math.isfinite(figures["val_psnr"])
    assert splits == ["train"]  # read once (cached for validation), and never the test split
    return trainer, out / "checkpoints" / "best.pt", load("mnist", "train").images


def test_crops_are_whole_unflipped_training_digits_and_the_held_out_ones_validate(trained):
    trainer, _, train = trained
    assert trainer.config.crop == 28
    kept = train[:-HELD_OUT]
    assert torch.equal(trainer.data.stack.float() / 255, kept)  # uint8 exactly: the images are stored as k / 255
    batch = trainer.data.sample(32, torch.Generator().manual_seed(0))
    assert batch.shape == (32, 1, 28, 28)
    flat = kept.flatten(1)
    for crop in batch.flatten(1):  # each one is a training image as stored: not shifted, flipped or transposed
        assert (flat == crop).all(1).any()
    first = len(train) - HELD_OUT
    assert [name for name, *_ in trainer.val_set] == [f"mnist-train-{first + i}" for i in range(3)]
    for i, (_, clean, noisy, sigma) in enumerate(trainer.val_set):
        assert torch.equal(clean[0], train[first + i]) and sigma == 75
        assert 0.2 < float((noisy - clean).std()) < 0.4  # sigma 75 on the 0-255 scale: 0.29


def test_the_checkpoint_purifies_digits_and_passes_gradients(trained):
    from advkit.defenses.specs import load_purifier

    _, checkpoint, train = trained
    purifier = load_purifier(f"denoiser:{checkpoint}")
    x = train[:6].clone().requires_grad_(True)
    purified = purifier(x)
    assert purified.shape == x.shape and 0 <= float(purified.detach().min()) and float(purified.detach().max()) <= 1
    purified.sum().backward()  # the white-box attack's path
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with torch.no_grad():  # the tiled inference path gives the same pixels
        # tiled vs direct pass of a small conv net on 28x28: another blocking, ~1e-6 on O(1) pixels
        assert torch.allclose(purifier(x.detach()), purified.detach(), atol=1e-5)


def test_bad_crop_channels_and_split_are_refused_in_one_line(cli, tmp_path):
    with pytest.raises(AdvkitError, match="--crop 28"):
        DenoiseConfig(data="mnist", channels=1, crop=32)
    with pytest.raises(AdvkitError, match="--channels 1"):
        DenoiseConfig(data="fashion-mnist")
    with pytest.raises(AdvkitError, match="--val-split 5000"):
        training_crops("mnist", 28, torch.device("cpu"), "L", val_split=5000)
    result = cli("denoise", "train", "--data", "mnist", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "--channels 1" in result.stderr and "Traceback" not in result.output
