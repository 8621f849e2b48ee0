"""The blind denoiser: the noise-level map matters, tiling is exact, checkpoints rebuild, apply/evaluate use it."""

from __future__ import annotations

import pytest
import torch

from advkit.denoise.blind import BlindUNetDenoiser, BlindUNetDenoiserConfig, noise_level_map
from advkit.denoise.tiling import exact_margin, tiled_apply
from advkit.errors import AdvkitError

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


def small_blind(channels: int = 3, norm: str = "batch") -> BlindUNetDenoiser:
    torch.manual_seed(0)
    G = BlindUNetDenoiser(BlindUNetDenoiserConfig(channels=channels, width=8, levels=2, norm=norm))
    torch.nn.init.normal_(G.tail.weight, 0, 0.05)  # the tail starts at zero (identity): make the net non-trivial
    for m in G.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # non-trivial eval-mode statistics
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return G.eval()


def test_untrained_blind_model_is_the_identity_and_the_map_changes_a_trained_one():
    x = torch.rand(2, 3, 24, 40)
    fresh = BlindUNetDenoiser(BlindUNetDenoiserConfig(width=8, levels=2)).eval()
    with torch.no_grad():
        assert torch.equal(fresh(x, 25.0), x)  # residual learning: zero tail, identity
        G = small_blind()
        low, high = G(x, 5.0), G(x, 60.0)
        per_image = G(x, torch.tensor([5.0, 60.0]))
    assert (low - high).abs().max() > 1e-3  # the noise level is an input that matters
    # same network, same input, batched vs alone: float32 defaults (1.3e-6 relative, 1e-5 absolute) cover another
    # blocking
    torch.testing.assert_close(per_image[0], low[0])
    torch.testing.assert_close(per_image[1], high[1])


@pytest.mark.parametrize("size", [(37, 53), (29, 70), (64, 33)])
@pytest.mark.parametrize("level", ["number", "per-image", "map"])
def test_tiling_equals_whole_image_inference_for_odd_sizes(size, level):
    G = small_blind()
    x = torch.rand(2, 3, *size)
    sigma = {"number": 30.0, "per-image": torch.tensor([10.0, 45.0]),
             "map": torch.rand(2, 1, *size) * 75}[level]
    with torch.no_grad():
        whole = G(x, sigma)
        tiled = tiled_apply(G, x, tile=16, margin=exact_margin(G), sigma=sigma)
    assert tiled.shape == x.shape
    # tiles vs one pass: other convolution blockings, ~1e-6 relative per layer on O(1) activations, ~1e-5 after the
    # U-Net; 1e-4 is 10x that, a seam is > 1e-2
    assert (tiled - whole).abs().max().item() < 1e-4


def test_blind_model_refuses_missing_or_misshapen_noise_level():
    G = small_blind()
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(AdvkitError, match="noise level"):
        tiled_apply(G, x)
    with pytest.raises(AdvkitError, match="noise level"):
        G(x, torch.ones(3))
    assert noise_level_map(51.0, x).unique().item() == pytest.approx(0.2)  # sigma / 255


def test_checkpoint_rebuilds_the_blind_model_from_the_file_alone(tmp_path):
    from advkit.models.registry import model_spec
    from advkit.models.registry import rebuild_models
    from advkit.runtime.checkpoint import load_checkpoint, save_checkpoint

    G = small_blind(channels=1)
    name, args = model_spec(G)
    assert name == "denoise-blind-unet" and args["channels"] == 1
    path = save_checkpoint(tmp_path / "g.pt", step=1, config={"blind": True}, models={"G": (name, args, G)})
    rebuilt = rebuild_models(load_checkpoint(path), ["G"], "cpu")["G"].eval()
    x = torch.rand(1, 1, 21, 19)
    with torch.no_grad():
        # the same weights rebuilt from the file: identical ops (float32 defaults are spare)
        torch.testing.assert_close(rebuilt(x, 20.0), G(x, 20.0))


def test_apply_matches_channels_estimates_sigma_and_keeps_alpha():
    from advkit.data.images import ImageData
    from advkit.denoise.apply import denoise_image

    colour, grey = small_blind(3), small_blind(1)
    rgb = ImageData(torch.rand(3, 40, 36), alpha=torch.rand(1, 40, 36), bit_depth=16)
    out = denoise_image([grey, colour], rgb, sigma=None)
    assert out["sigma_source"] == "estimated" and out["sigma"] > 20  # uniform random pixels look very noisy
    assert out["image"].pixels.shape == (3, 40, 36) and out["image"].bit_depth == 16
    assert torch.equal(out["image"].alpha, rgb.alpha)
    with torch.no_grad():
        expected = colour(rgb.pixels[None], out["sigma"])[0].clamp(0, 1)
    # one tile vs a direct call, then the same clamp: ~1e-6 from the padding/blocking; 1e-5
    torch.testing.assert_close(out["image"].pixels, expected, atol=1e-5, rtol=0)
    l_image = ImageData(torch.rand(1, 33, 35))
    out = denoise_image([grey, colour], l_image, sigma=25.0)
    assert out["sigma_source"] == "given" and out["image"].grey
    with torch.no_grad():
        # as above (float32 defaults: 1.3e-6 relative + 1e-5 absolute)
        torch.testing.assert_close(out["image"].pixels, grey(l_image.pixels[None], 25.0)[0].clamp(0, 1))
    out = denoise_image(grey, rgb, sigma=25.0)  # no colour model: channel by channel
    assert out["image"].pixels.shape == (3, 40, 36) and any("channel by channel" in n for n in out["notes"])
    with torch.no_grad():
        torch.testing.assert_close(out["image"].pixels[1:2], grey(rgb.pixels[None, 1:2], 25.0)[0].clamp(0, 1))
    with pytest.raises(AdvkitError, match="grey model"):  # identical noise in 3 channels: a colour model fails
        denoise_image(colour, l_image, sigma=25.0)


def test_sigma_mismatch_warns_only_for_a_sigma_specific_checkpoint():
    from advkit.denoise.apply import sigma_mismatch, trained_sigma

    s50 = {"config": {"noise_std": 50.0, "arch": "unet"}, "models": {"G": {"name": "denoise-unet"}}}
    blind = {"config": {"noise_std": 50.0, "blind": True}, "models": {"G": {"name": "denoise-blind-unet"}}}
    assert trained_sigma(s50) == 50.0 and trained_sigma(blind) is None
    assert "sigma 50" in sigma_mismatch(s50, 25.0) and sigma_mismatch(s50, 50.0) is None
    assert sigma_mismatch(blind, 25.0) is None


def test_shipped_sigma50_checkpoints_record_their_noise_level():
    from advkit.denoise.inference import shipped_checkpoint
    from advkit.denoise.apply import trained_sigma
    from advkit.runtime.checkpoint import load_checkpoint

    for model in ("quality", "fast"):
        assert trained_sigma(load_checkpoint(shipped_checkpoint(model))) == 50.0


def test_evaluate_grid_rows_and_self_ensemble(tmp_path):
    from PIL import Image
    from skimage import data as skdata

    from advkit.denoise.evaluate import evaluate_grid, grid_to_markdown, model_method

    Image.fromarray(skdata.astronaut()[:48, :40]).save(tmp_path / "a.png")
    Image.fromarray(skdata.chelsea()[:40, :52]).save(tmp_path / "b.png")
    G = small_blind()
    methods = {"blind": model_method(G), "x8": model_method(G, self_ensemble=True),
               "est": model_method(G, sigma_source="estimated")}
    grid = evaluate_grid(tmp_path, methods, sigmas=(15, 50), clips=(False, True))
    assert [(r["sigma"], r["clip"]) for r in grid] == [(15, False), (15, True), (50, False), (50, True)]
    assert grid[2]["mean"]["noisy"]["psnr"] != grid[3]["mean"]["noisy"]["psnr"]  # the clip row is another noise
    assert grid[0]["mean"]["x8"]["psnr"] != grid[0]["mean"]["blind"]["psnr"]
    table = grid_to_markdown(grid)
    assert table.count("\n") == 2 + 4 and "| 50 | yes |" in table


def test_self_ensemble_inverts_every_symmetry_and_is_exact_for_a_pointwise_map():
    from advkit.denoise.ensemble import dihedral, dihedral_inverse, self_ensemble

    x = torch.rand(2, 3, 5, 7)
    assert len({tuple(dihedral(x, k).flatten()[:12].tolist()) for k in range(8)}) == 8
    for k in range(8):
        assert torch.equal(dihedral_inverse(dihedral(x, k), k), x)
    # flips and rotations are exact; the mean of 8 equal values divides by 8 exactly
    torch.testing.assert_close(self_ensemble(lambda t: t.square(), x), x.square())
    shift = lambda t: torch.roll(t, 1, dims=-1)  # noqa: E731  (not symmetric: the ensemble differs from it)
    assert not torch.allclose(self_ensemble(shift, x), shift(x))


@pytest.mark.parametrize("sigma,clip", [(15.0, False), (50.0, False), (50.0, True)])
def test_shipped_blind_model_denoises_a_real_photo_at_any_level(sigma, clip):
    from skimage import data as skdata

    from advkit.data.paths import assets_root
    from advkit.denoise.evaluate import psnr_ssim
    from advkit.denoise.export import load_generator
    from advkit.denoise.noise import add_noise

    path = assets_root() / "denoiser-blind-unet16.pt"
    assert path.stat().st_size < 4 * 2 ** 20
    G, payload = load_generator(path)
    assert payload["models"]["G"]["name"] == "denoise-blind-unet" and payload["config"]["blind"] is True
    clean = torch.from_numpy(skdata.astronaut()[100:196, 150:262]).permute(2, 0, 1).float()[None] / 255
    noisy = add_noise(clean, sigma, seed=0, clip=clip)
    with torch.no_grad():
        right, wrong = G(noisy, sigma).clamp(0, 1), G(noisy, sigma / 5).clamp(0, 1)
    score = lambda t: psnr_ssim(clean[0].permute(1, 2, 0).numpy(), t[0].permute(1, 2, 0).numpy())["psnr"]  # noqa: E731
    assert score(right) > score(noisy.clamp(0, 1)) + (5 if sigma < 20 else 8)
    assert score(right) > score(wrong) + 0.5  # told the right level it does better than told a fifth of it


def test_shipped_blind_grey_model_denoises_a_grey_photo():
    from skimage import data as skdata

    from advkit.data.paths import assets_root
    from advkit.denoise.evaluate import psnr_ssim
    from advkit.denoise.export import load_generator
    from advkit.denoise.noise import add_noise

    G, payload = load_generator(assets_root() / "denoiser-blind-unet16-grey.pt")
    assert payload["models"]["G"]["args"]["channels"] == 1
    clean = torch.from_numpy(skdata.camera()[100:228, 150:278]).float()[None, None] / 255
    noisy = add_noise(clean, 25.0, seed=0, clip=True)
    with torch.no_grad():
        estimate = G(noisy, 25.0).clamp(0, 1)
    score = lambda t: psnr_ssim(clean[0].permute(1, 2, 0).numpy(), t[0].permute(1, 2, 0).numpy())["psnr"]  # noqa: E731
    assert score(estimate) > score(noisy) + 6
