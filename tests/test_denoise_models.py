"""Generators keep the image size, tiling equals whole-image inference, D's heads, the shipped model."""

from __future__ import annotations

import pytest
import torch

from advkit.denoise.discriminator import DenoiseDiscriminator, DenoiseDiscriminatorConfig
from advkit.denoise.generator import (OriginalBNDenoiser, OriginalBNDenoiserConfig, OriginalDenoiser,
                                      OriginalDenoiserConfig, UNetDenoiser, UNetDenoiserConfig, receptive_field)
from advkit.denoise.tiling import tiled_apply

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


def small_unet(**kw) -> UNetDenoiser:
    torch.manual_seed(0)
    G = UNetDenoiser(UNetDenoiserConfig(width=8, levels=2, **kw))
    torch.nn.init.normal_(G.tail.weight, 0, 0.05)  # a non-trivial net (the tail starts at zero)
    return G.eval()


@pytest.mark.parametrize("size", [(17, 29), (31, 8), (33, 65), (5, 7)])
def test_output_size_equals_input_size_for_odd_sizes(size):
    x = torch.rand(2, 3, *size)
    for G in (small_unet(), OriginalDenoiser(OriginalDenoiserConfig(width=8)).eval(),
              OriginalBNDenoiser(OriginalBNDenoiserConfig(width=8)).eval()):
        with torch.no_grad():
            assert G(x).shape == x.shape


def test_residual_unet_starts_as_the_identity():
    G = UNetDenoiser(UNetDenoiserConfig(width=8, levels=2)).eval()
    x = torch.rand(1, 3, 24, 40)
    with torch.no_grad():
        assert torch.equal(G(x), x)


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_tiling_equals_whole_image_within_1e4(norm):
    G = small_unet(norm=norm)
    if norm == "batch":  # non-trivial running statistics: eval-mode BN is a per-channel affine map
        for m in G.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(1, 3, 75, 101)
    margin = receptive_field(G) // 2 + G.stride
    with torch.no_grad():
        whole = G(x)
        tiled = tiled_apply(G, x, tile=24, margin=margin)
        seams = tiled_apply(G, x, tile=24, margin=0)
    assert tiled.shape == whole.shape
    # tiles vs one pass: other convolution blockings, ~1e-6 relative per layer, ~1e-5 after the U-Net; 1e-4 is 10x
    # that, a seam is > 1e-2
    assert (tiled - whole).abs().max().item() < 1e-4
    # Without the margin the tile borders show: the check above can fail.
    assert (seams - whole).abs().max().item() > 1e-3


def test_receptive_field_of_the_original_net():
    # two 4x4/2 convs then two 4x4/2 deconvs: one output pixel sees a 10..14 px window
    assert 8 <= receptive_field(OriginalDenoiser(OriginalDenoiserConfig(width=4))) <= 16
    assert receptive_field(OriginalBNDenoiser(OriginalBNDenoiserConfig(width=4))) == receptive_field(
        OriginalDenoiser(OriginalDenoiserConfig(width=4)))


def test_original_is_the_sources_generator_and_original_bn_the_dcgan_variant():
    from torch import nn

    from advkit.train.denoise import DenoiseConfig, generator_args

    torch.manual_seed(0)
    G = OriginalDenoiser(OriginalDenoiserConfig())
    assert sum(p.numel() for p in G.parameters()) == 17_987  # width 16: 3->16->32->16->3, 4x4 kernels
    kinds = {type(m) for m in G.modules()}
    assert nn.ReLU in kinds and not kinds & {nn.BatchNorm2d, nn.LeakyReLU}
    weights = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    # init statistics: std of N(0, 0.001) weights estimated from n >= 10^4 values: relative error ~1/sqrt(n) < 1%,
    # 5% allowed; the mean ~0.001/sqrt(n) ~ 1e-5, 1e-4 allowed
    assert abs(weights.std().item() / 0.001 - 1) < 0.05 and abs(weights.mean().item()) < 1e-4
    assert all(m.bias.abs().max() == 0 for m in G.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    bn = OriginalBNDenoiser(OriginalBNDenoiserConfig())
    assert any(isinstance(m, nn.BatchNorm2d) for m in bn.modules()) and bn.config.width == 64
    source = DenoiseConfig(arch="original")
    assert (source.width, source.lr) == (16, 1e-5) and generator_args(source)[0] == "denoise-original"
    dcgan = DenoiseConfig(arch="original-bn")
    assert (dcgan.width, dcgan.lr) == (64, 2e-4) and generator_args(dcgan)[0] == "denoise-original-bn"


def test_discriminator_heads():
    x, y = torch.rand(4, 3, 96, 96), torch.rand(4, 3, 96, 96)
    patch = DenoiseDiscriminator(DenoiseDiscriminatorConfig(width=8, conditional=True, patch=True))
    assert patch(x, y).shape == (4, 1, 12, 12)
    assert patch(torch.rand(2, 3, 40, 56), torch.rand(2, 3, 40, 56)).shape == (2, 1, 5, 7)  # any size
    plain = DenoiseDiscriminator(DenoiseDiscriminatorConfig(width=8, conditional=False, patch=False,
                                                            spectral_norm=False))
    assert plain(x).shape == (4, 1)
    # The conditional D's verdict depends on the noisy input it is shown.
    assert not torch.allclose(patch(x, y), patch(x, torch.rand_like(y)))


@pytest.mark.parametrize("model,width", [("quality", 32), ("fast", 16)])
def test_shipped_denoisers_are_small_load_and_denoise_a_real_photo(model, width):
    from skimage import data as skdata

    from advkit.denoise.inference import load_denoiser, shipped_checkpoint
    from advkit.denoise.evaluate import psnr_ssim
    from advkit.denoise.noise import add_noise

    assert shipped_checkpoint(model).stat().st_size < 10 * 2 ** 20
    G, _, payload = load_denoiser(None, torch.device("cpu"), shipped=model)
    assert payload["models"]["G"]["name"] == "denoise-unet" and payload["models"]["G"]["args"]["width"] == width
    clean = torch.from_numpy(skdata.astronaut()[100:196, 150:262]).permute(2, 0, 1).float() / 255  # 96x112 real photo
    noisy = add_noise(clean[None], 50, seed=0)
    with torch.no_grad():
        estimate = G(noisy).clamp(0, 1)
    as_hwc = lambda t: t[0].permute(1, 2, 0).numpy()  # noqa: E731
    before, after = psnr_ssim(as_hwc(clean[None]), as_hwc(noisy))["psnr"], psnr_ssim(as_hwc(clean[None]), as_hwc(estimate))["psnr"]
    assert after > before + 8, (before, after)


def _randomize_batch_norm(model: torch.nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)


@pytest.mark.parametrize("make", [lambda: small_unet(norm="batch"),
                                  lambda: OriginalBNDenoiser(OriginalBNDenoiserConfig(width=8)).eval()])
def test_folding_batch_norm_keeps_the_function_and_removes_every_norm(make):
    import copy

    from advkit.models.fold import fold_batch_norm

    G = make()
    _randomize_batch_norm(G)
    folded = fold_batch_norm(copy.deepcopy(G))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    x = torch.rand(2, 3, 33, 45)
    with torch.no_grad():
        # batch norm folded into the conv: (w * s) * x + b' vs (w * x - m) * s + b, other roundings (~1e-6 relative
        # per layer)
        torch.testing.assert_close(folded(x), G(x), atol=1e-5, rtol=1e-5)


def test_folding_refuses_a_model_in_training_mode():
    from advkit.errors import AdvkitError
    from advkit.models.fold import fold_batch_norm

    with pytest.raises(AdvkitError, match="eval mode"):
        fold_batch_norm(small_unet(norm="batch").train())


@pytest.mark.parametrize("switch", [("ATEN_CPU_CAPABILITY", "default"), ("ATEN_CPU_CAPABILITY", "avx2"),
                                    ("ONEDNN_MAX_CPU_ISA", "AVX2")])
def test_amp_inference_runs_float32_with_a_warning_where_bf16_would_be_emulated(monkeypatch, switch):
    import contextlib

    from advkit.runtime import amp

    monkeypatch.setenv(*switch)  # torch's / oneDNN's own cap on the instruction set: a CPU without native bf16
    assert not amp.cpu_has_native_bf16()
    with pytest.warns(amp.Bf16UnavailableWarning, match="running in float32"):
        context = amp.inference_autocast("cpu", True)
    assert isinstance(context, contextlib.nullcontext)  # float32, not emulated bf16
    messages = []
    assert amp.native_bf16("cpu", True, "--amp", messages.append) is False and len(messages) == 1
    assert amp.native_bf16("cpu", False, "--amp", messages.append) is False and len(messages) == 1  # not asked


def test_bf16_inference_of_the_shipped_model_costs_under_0_05_db():
    """--amp's promise (docs/results/denoise.md: -0.01 dB on CBSD68) on a real photo, where bf16 is native."""
    from advkit.runtime.amp import cpu_has_native_bf16

    if not cpu_has_native_bf16():
        pytest.skip("this CPU has no native bf16 (AVX512-BF16/AMX): --amp runs float32 here")
    from skimage.data import chelsea

    from advkit.denoise.inference import load_denoiser
    from advkit.denoise.tiling import exact_margin
    from advkit.denoise.evaluate import model_method, psnr_ssim
    from advkit.denoise.noise import add_noise

    clean = torch.from_numpy(chelsea()[:128, :160]).permute(2, 0, 1).float() / 255
    noisy = add_noise(clean, 50, seed=0).permute(1, 2, 0).numpy()
    clean = clean.permute(1, 2, 0).numpy()
    G, _, _ = load_denoiser(None, torch.device("cpu"), shipped="quality")
    full = psnr_ssim(clean, model_method(G, 512, exact_margin(G))(noisy, 50))["psnr"]
    half = psnr_ssim(clean, model_method(G, 512, exact_margin(G), amp=True)(noisy, 50))["psnr"]
    assert full > 24 and abs(full - half) < 0.05


def test_folding_leaves_pairs_it_cannot_fold_exactly():
    from torch import nn

    from advkit.models.fold import fold_batch_norm

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Sequential(nn.ConvTranspose2d(4, 4, 3, 1, 1, groups=2), nn.BatchNorm2d(4)),   # grouped deconv
        nn.Sequential(nn.Conv2d(4, 4, 3, 1, 1), nn.BatchNorm2d(4, track_running_stats=False)),  # batch stats
        nn.Sequential(nn.utils.parametrizations.spectral_norm(nn.Conv2d(4, 4, 3, 1, 1)), nn.BatchNorm2d(4)),
        nn.Sequential(nn.Conv2d(4, 4, 3, 1, 1), nn.BatchNorm2d(4))).eval()                # the one foldable pair
    x = torch.rand(2, 4, 9, 9)
    with torch.no_grad():
        before = model(x)
        fold_batch_norm(model)
        after = model(x)
    kinds = [type(block[1]).__name__ for block in model]
    assert kinds == ["BatchNorm2d", "BatchNorm2d", "BatchNorm2d", "Identity"]
    # as above: folding changes the rounding only (~1e-6)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
