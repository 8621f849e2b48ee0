"""DiffAugment: each policy does what the paper says (checked as invariants on every image of a batch), draws
come from the caller's generator, gradients flow to G, and the trainer shows D only augmented images."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from advkit.errors import AdvkitError
from advkit.gan.diffaugment import CUTOUT_RATIO, TRANSLATION_RATIO, cutout, diff_augment, translation
from advkit.gan.options import parse_policy
from advkit.train.gan_config import GANConfig


def _shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``x`` [C, H, W] moved so output (i, j) = x(i + dy, j + dx), zeros from outside."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (w, w, h, h))
    return padded[:, h + dy:2 * h + dy, w + dx:2 * w + dx]


def test_translation_is_a_zero_filled_shift_of_at_most_an_eighth():
    x = torch.rand(64, 3, 16, 24) + 0.1  # no zeros of its own
    out = translation(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    max_dy, max_dx = int(16 * TRANSLATION_RATIO + 0.5), int(24 * TRANSLATION_RATIO + 0.5)
    shifts = set()
    for image, moved in zip(x, out):
        found = [(dy, dx) for dy in range(-max_dy, max_dy + 1) for dx in range(-max_dx, max_dx + 1)
                 if torch.equal(moved, _shifted(image, dy, dx))]
        assert len(found) == 1, "each image is exactly one allowed shift of its input"
        shifts.add(found[0])
    assert len(shifts) > 10, "shifts are drawn per image"


def test_cutout_zeroes_one_square_of_half_the_size_clipped_at_the_border():
    x = torch.ones(200, 2, 20, 20)
    out = cutout(x, torch.Generator().manual_seed(0))
    size = int(20 * CUTOUT_RATIO + 0.5)
    full = 0
    for image in out:
        assert torch.equal(image[0], image[1]), "the same hole in every channel"
        hole = image[0] == 0
        rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
        assert hole.sum() == len(rows) * len(cols), "the hole is one rectangle"
        assert torch.equal(rows, torch.arange(rows[0], rows[-1] + 1))
        assert size // 2 <= len(rows) <= size and size // 2 <= len(cols) <= size
        assert image[0][~hole].eq(1).all()
        full += bool(len(rows) == size and len(cols) == size)
    assert full > 50, "most squares lie inside the image"


def test_same_generator_state_same_augmentation_and_gradients_reach_the_input():
    policy = parse_policy("color, translation,cutout")
    assert policy == ("color", "translation", "cutout") and parse_policy("") == ()
    x = torch.rand(8, 3, 12, 12, requires_grad=True)
    a = diff_augment(x, policy, torch.Generator().manual_seed(3))
    b = diff_augment(x, policy, torch.Generator().manual_seed(3))
    c = diff_augment(x, policy, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0, "G's gradient flows back through the augmentation"


def test_unknown_policy_and_toy_data_are_refused_with_the_fix():
    with pytest.raises(AdvkitError, match="translation,cutout"):
        parse_policy("translate")
    with pytest.raises(AdvkitError, match="--diffaugment"):
        GANConfig(dataset="ring", diffaugment="cutout")
    with pytest.raises(AdvkitError, match="translation,cutout"):
        GANConfig(dataset="mnist", diffaugment="cutout,flip")  # refused with the config, before any data loads
    assert GANConfig(dataset="mnist", diffaugment=" translation , cutout").diffaugment == "translation,cutout"


def test_discriminator_sees_only_augmented_images(tmp_path):
    from advkit.runtime.session import open_session
    from advkit.train.gan import GANTrainer

    config = GANConfig(dataset="fake", arch="dcgan", loss="ns", diffaugment="cutout", steps=2, batch_size=8,
                       base_channels=8, eval_samples=64, grid=4, device="cpu")
    session = open_session("gan-train", config, out=tmp_path / "da", quiet=True)
    trainer = GANTrainer(config, session)
    seen = []
    trainer.D.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    trainer.fit()
    session.run.close()
    d_batches = seen[:3]  # step 1: D on real, D on fake (D has batch norm), G phase on fake
    assert len(d_batches) == 3
    for batch in d_batches:
        size = int(batch.shape[-1] * CUTOUT_RATIO + 0.5)
        zeros = (batch == 0).all(1).flatten(1).sum(1)  # pixels zero in every channel, per image
        assert (zeros >= (size // 2) ** 2).all(), "every image D judges has a cutout hole"
