"""The corruption process: requested std, clipping, the source's compat mode, seeding."""

from __future__ import annotations

import pytest
import torch

from advkit.denoise.noise import add_noise, image_seed, minmax_rescale
from advkit.errors import AdvkitError


@pytest.mark.parametrize("sigma", [5.0, 25.0, 50.0])
def test_measured_std_within_2_percent(sigma):
    clean = torch.full((3, 256, 256), 0.5)
    noise = add_noise(clean, sigma, seed=1) - clean
    assert abs(noise.std().item() * 255 / sigma - 1) < 0.02
    assert abs(noise.mean().item()) < 0.01 * sigma / 255 * 3
    # i.i.d. per channel: the three channels' noise is uncorrelated.
    corr = torch.corrcoef(noise.reshape(3, -1))
    assert corr[0, 1].abs() < 0.02 and corr[1, 2].abs() < 0.02


def test_clip_on_and_off():
    clean = torch.rand(2, 3, 64, 64)
    raw = add_noise(clean, 50, seed=0)
    clipped = add_noise(clean, 50, seed=0, clip=True)
    assert raw.min() < 0 and raw.max() > 1          # unclipped, as the benchmarks score it
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert torch.equal(clipped, raw.clamp(0, 1))     # same draw, only the clamp differs


def test_compat_mode_shares_one_field_and_rescales():
    clean = torch.full((2, 3, 48, 40), 0.3)
    noisy = add_noise(clean, 50, seed=3, mode="compat")
    # One noise field for all channels: a grey image stays grey.
    assert torch.equal(noisy[:, 0], noisy[:, 1]) and torch.equal(noisy[:, 1], noisy[:, 2])
    # Min-max rescaled per image (not clipped): exactly [0, 1].
    for image in noisy:
        # min-max rescaling (x - min) / (max - min): one float32 rounding (6e-8) of values in [0, 1]
        assert image.min().item() == pytest.approx(0.0, abs=1e-6)
        assert image.max().item() == pytest.approx(1.0, abs=1e-6)
    # On a colour image the shared field cancels between channels: their differences are the clean ones, scaled.
    coloured = torch.rand(1, 3, 32, 32)
    noisy = add_noise(coloured, 50, seed=3, mode="compat")
    ratio = (noisy[0, 0] - noisy[0, 1]) / (coloured[0, 0] - coloured[0, 1])
    # a ratio of differences of float32 values: cancellation where channels are close (differences ~1e-2) amplifies
    # 6e-8 to ~1e-5 relative; 1e-3 leaves margin, a channel-dependent field gives O(1) spread
    assert torch.allclose(ratio, ratio.mean().expand_as(ratio), rtol=1e-3, atol=1e-3)
    x = torch.tensor([[[[2.0, 4.0], [6.0, 10.0]]]]).expand(1, 3, 2, 2)
    assert torch.allclose(minmax_rescale(x)[0, 0], torch.tensor([[0.0, 0.25], [0.5, 1.0]]))


def test_same_seed_same_noise_other_seed_other_noise():
    clean = torch.rand(3, 32, 32)
    assert torch.equal(add_noise(clean, 50, seed=7), add_noise(clean, 50, seed=7))
    assert not torch.equal(add_noise(clean, 50, seed=7), add_noise(clean, 50, seed=8))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(add_noise(clean, 50, generator=g1), add_noise(clean, 50, generator=g2))
    assert image_seed(0, "a.png") == image_seed(0, "a.png") != image_seed(0, "b.png")


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), 300.0])
def test_bad_sigma_is_refused(sigma):
    with pytest.raises(AdvkitError, match="noise-std"):
        add_noise(torch.rand(3, 8, 8), sigma, seed=0)


def test_a_scalar_sigma_is_the_seeded_cpu_draw():
    """The reference: N(0, 1) from the seeded CPU generator, times sigma / 255 (unchanged by per-image sigmas)."""
    clean = torch.rand(2, 3, 16, 16)
    expected = clean + torch.randn(clean.shape, generator=torch.Generator().manual_seed(4)) * (30 / 255)
    assert torch.equal(add_noise(clean, 30.0, seed=4), expected)


def test_per_image_sigma_and_per_image_clipping():
    clean = torch.full((3, 3, 128, 128), 0.5)
    sigmas = torch.tensor([0.0, 20.0, 60.0])
    noise = add_noise(clean, sigmas, seed=0) - clean
    measured = noise.flatten(1).std(1) * 255
    assert measured[0] == 0 and abs(measured[1] / 20 - 1) < 0.02 and abs(measured[2] / 60 - 1) < 0.02
    clip = torch.tensor([False, True, True])
    clipped = add_noise(clean, sigmas, seed=0, clip=clip)
    raw = add_noise(clean, sigmas, seed=0)
    assert torch.equal(clipped[0], raw[0]) and torch.equal(clipped[1:], raw[1:].clamp(0, 1))
    with pytest.raises(AdvkitError, match="per-image"):
        add_noise(clean, torch.tensor([10.0, 20.0]), seed=0)          # 2 sigmas for 3 images
    with pytest.raises(AdvkitError, match="per-image"):
        add_noise(clean, torch.tensor([10.0, -1.0, 300.0]), seed=0)   # out of [0, 255]


def test_on_device_noise_is_reproducible_from_the_generator_state():
    clean = torch.rand(2, 3, 32, 32)
    draw = lambda: add_noise(clean, torch.tensor([10.0, 40.0]), generator=torch.Generator().manual_seed(9),  # noqa: E731
                             on_device=True)
    first, second = draw(), draw()
    assert torch.equal(first, second)
    assert abs((first - clean)[1].std().item() * 255 / 40 - 1) < 0.05
