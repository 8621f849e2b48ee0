"""Purification defences and their adaptive attacks (advkit.defenses): composition, BPDA, EOT, Defense-GAN, and
that every purifier keeps shapes and the [0, 1] range."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from advkit.defenses import (BPDA, EOT, JPEG, BitDepth, Defended, DefenseGAN, Identity, MedianFilter,
                             TVMinimisation, load_purifier)
from advkit.errors import AdvkitError

torch.set_num_threads(1)


def tiny_classifier(channels: int = 1, size: int = 12) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(channels, 4, 3, padding=1), nn.Tanh(), nn.Flatten(),
                         nn.Linear(4 * size * size, 10)).eval()


def tiny_generator(size: int = 12):
    from advkit.gan.models import MLPGenerator, MLPGeneratorConfig

    torch.manual_seed(0)
    return MLPGenerator(MLPGeneratorConfig(z_dim=8, hidden=32, out_shape=[1, size, size], output="sigmoid")).eval()


def images(n: int = 4, channels: int = 1, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed))


def input_grad(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[:, 3].sum(), x)
    return grad


class Blur(nn.Module):
    """A differentiable purifier (3x3 box blur), also used as a BPDA approximation."""

    differentiable, randomized = True, False

    def forward(self, x):
        return nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


class NoisyPurifier(nn.Module):
    """A randomised purifier: adds seeded noise from ``self.generator``; counts its calls."""

    differentiable, randomized = True, True

    def __init__(self):
        super().__init__()
        self.generator, self.calls = torch.Generator().manual_seed(123), 0

    def forward(self, x):
        self.calls += 1
        return x + 0.1 * torch.randn(x.shape, generator=self.generator)


# ---------------------------------------------------------------------------------------------- composition
def test_identity_purifier_gives_exactly_the_classifiers_numbers():
    net, x = tiny_classifier(), images()
    assert torch.equal(Defended(net, Identity())(x), net(x))
    assert torch.equal(input_grad(Defended(net, Identity()), x), input_grad(net, x))


def test_composition_keeps_gradients_through_a_differentiable_purifier():
    net, x, blur = tiny_classifier(), images(), Blur()
    grad = input_grad(Defended(net, blur), x)
    # chain rule by hand: the blur's vector-Jacobian product of the classifier's gradient at the blurred point
    xb = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(blur(xb), xb, input_grad(net, blur(x)))
    # the same autograd ops in the same order; 1e-6 covers reassociation in the blur's vjp (~1e-7 on O(1) gradients)
    assert grad.abs().sum() > 0 and torch.allclose(grad, expected, atol=1e-6)


def test_denoiser_purifier_is_differentiable_and_matches_the_tiled_pass():
    denoiser = load_purifier("denoiser:fast")
    x = images(size=28)
    with torch.no_grad():
        tiled = denoiser(x)  # through advkit.denoise.apply.denoise_tensor
    xr = x.clone().requires_grad_(True)
    direct = denoiser(xr)
    # one pass vs the tiled pass: other convolution blockings (oneDNN picks per size), ~1e-6 relative per layer
    # through ~10 layers of O(1) activations -> ~1e-5; 1e-4 is 10x that, a seam or a wrong margin is > 1e-2
    assert torch.allclose(direct, tiled, atol=1e-4)
    (grad,) = torch.autograd.grad(direct.sum(), xr)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


# ---------------------------------------------------------------------------------------------- BPDA
def test_bpda_identity_backward_is_the_classifiers_gradient_at_the_purified_point():
    net, x = tiny_classifier(), images()
    for purifier in (JPEG(50), BitDepth(2), MedianFilter(3)):
        wrapped = Defended(net, BPDA(purifier))
        assert torch.equal(wrapped(x), Defended(net, purifier)(x))  # the forward pass is the purifier's
        # the identity backward hands the same gradient through: same ops, 1e-6 covers reassociation (~1e-7)
        assert torch.allclose(input_grad(wrapped, x), input_grad(net, purifier(x)), atol=1e-6)


def test_bpda_backward_is_the_approximations_gradient():
    net, x, blur = tiny_classifier(), images(), Blur()
    jpeg = JPEG(50)
    grad = input_grad(Defended(net, BPDA(jpeg, backward=blur)), x)
    xb = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(blur(xb), xb, input_grad(net, jpeg(x)))
    # the approximation's vjp computed two ways in the same ops: ~1e-7, 1e-6 bounds it; the identity's differs by
    # O(1e-2)
    assert torch.allclose(grad, expected, atol=1e-6)
    assert not torch.allclose(grad, input_grad(net, jpeg(x)), atol=1e-6)  # and differs from the identity's
    with pytest.raises(AdvkitError):
        BPDA(jpeg, backward="sigmoid")


def test_bitdepth_has_no_gradient_without_bpda():
    """Rounding's gradient is zero: the obfuscated gradient BPDA exists to get around."""
    net, x = tiny_classifier(), images()
    assert input_grad(Defended(net, BitDepth(1)), x).abs().sum() == 0
    assert input_grad(Defended(net, BPDA(BitDepth(1))), x).abs().sum() > 0


# ---------------------------------------------------------------------------------------------- EOT
def test_eot_averages_logits_over_the_declared_samples_with_a_seeded_generator():
    net, x, k = tiny_classifier(), images(), 5
    purifier = NoisyPurifier()
    eot = EOT(Defended(net, purifier), samples=k, generator=torch.Generator().manual_seed(7))
    assert purifier.generator is eot.generator  # handed down to the randomised purifier
    xr = x.clone().requires_grad_(True)
    out = eot(xr)
    assert purifier.calls == k
    (grad,) = torch.autograd.grad(out[:, 3].sum(), xr)
    # the same k draws by hand from a generator with the same seed
    generator, logits, grads = torch.Generator().manual_seed(7), [], []
    for _ in range(k):
        xi = x.clone().requires_grad_(True)
        li = net(xi + 0.1 * torch.randn(x.shape, generator=generator))
        grads.append(torch.autograd.grad(li[:, 3].sum(), xi)[0])
        logits.append(li.detach())
    # a mean of the same logits summed in another order: ~1e-7 on O(1) values
    assert torch.allclose(out, torch.stack(logits).mean(0), atol=1e-6)
    # as above, for the gradients
    assert torch.allclose(grad, torch.stack(grads).mean(0), atol=1e-6)
    again = EOT(Defended(net, NoisyPurifier()), samples=k, generator=torch.Generator().manual_seed(7))(x)
    assert torch.equal(again, out.detach())
    with pytest.raises(AdvkitError):
        EOT(net, samples=0)


# ---------------------------------------------------------------------------------------------- Defense-GAN
def test_defense_gan_projection_lowers_the_error_monotonically():
    G = tiny_generator()
    with torch.no_grad():
        x = (G.images(G.noise(3, torch.Generator().manual_seed(1))) + 0.05 * images(3)).clamp(0, 1)
    purifier = DefenseGAN(G, restarts=3, steps=40, lr=0.05, generator=torch.Generator().manual_seed(0))
    result = purifier.project(x)
    history = result["history"]
    assert history.shape == (41, 3)
    assert (history[1:] <= history[:-1] + 1e-6).all()
    assert (history[-1] < 0.8 * history[0]).all()
    # the same squared error recomputed (784-term float32 sum ~ 784 * 6e-8 relative ~ 5e-5 of values ~0.1): 1e-5
    # absolute
    assert torch.allclose(result["error"], history[-1], atol=1e-5)
    # a 784-term float32 sum of squares recomputed in another order: relative ~1e-5 of errors O(1): 1e-4
    assert torch.allclose(((result["x"] - x) ** 2).flatten(1).sum(1), result["error"], atol=1e-4)
    # seeded: the same generator seed gives the same projection
    again = DefenseGAN(G, restarts=3, steps=40, lr=0.05, generator=torch.Generator().manual_seed(0))(x)
    assert torch.equal(again, result["x"])


def test_eot_seeds_a_defense_gan_inside_bpda():
    net, purifier = tiny_classifier(), DefenseGAN(tiny_generator(), restarts=2, steps=3)
    generator = torch.Generator().manual_seed(5)
    eot = EOT(Defended(net, BPDA(purifier)), samples=2, generator=generator)
    assert purifier.generator is generator
    x = images(2).requires_grad_(True)
    (grad,) = torch.autograd.grad(eot(x)[:, 0].sum(), x)
    assert grad.abs().sum() > 0  # BPDA carries the gradient past the projection


def test_defense_gan_from_a_checkpoint(tmp_path):
    from advkit.runtime.checkpoint import save_checkpoint

    G = tiny_generator()
    save_checkpoint(tmp_path / "gan.pt", step=0, config={}, models={"G": G})
    purifier = load_purifier(f"defense-gan:{tmp_path / 'gan.pt'}", gan_restarts=2, gan_steps=5)
    assert isinstance(purifier, DefenseGAN) and purifier.restarts == 2 and purifier.steps == 5
    with pytest.raises(AdvkitError, match="generator makes"):
        purifier(images(2, size=10))


# ---------------------------------------------------------------------------------------------- purifiers
PURIFIERS = {"bit-depth:1": lambda: BitDepth(1), "bit-depth:4": lambda: BitDepth(4), "jpeg:75": lambda: JPEG(75),
             "median:3": lambda: MedianFilter(3), "tv:0.1": lambda: TVMinimisation(0.1),
             "denoiser:fast": lambda: load_purifier("denoiser:fast"),
             "defense-gan": lambda: DefenseGAN(tiny_generator(), 2, 5)}


@pytest.mark.parametrize("name", PURIFIERS)
def test_every_purifier_keeps_shape_and_range(name):
    purifier = PURIFIERS[name]()
    x = images(3, size=12)
    out = purifier(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()
    if name not in ("defense-gan",):  # colour images too
        colour = images(2, channels=3, size=12)
        assert purifier(colour).shape == colour.shape


def test_bit_depth_rounds_to_the_nearest_level():
    x = images()
    for bits in (1, 3):
        levels = 2 ** bits - 1
        out = BitDepth(bits)(x) * levels
        # round(x * L) / L * L: two roundings of values <= 7 (~1e-6): 1e-5; an unquantised value is >= 1e-3 off
        assert torch.allclose(out, out.round(), atol=1e-5)
        assert ((out / levels - x).abs() <= 0.5 / levels + 1e-6).all()


def test_median_filter_matches_scipy():
    from scipy.ndimage import median_filter

    x = images(2, channels=3)
    reference = median_filter(x.numpy(), size=(1, 1, 3, 3), mode="mirror")  # torch's reflect is scipy's mirror
    # a median selects one input value: exact (allclose's defaults are spare)
    assert np.allclose(MedianFilter(3)(x).numpy(), reference)


def test_jpeg_matches_torchvisions_encoder_for_grey_images():
    import warnings

    from torchvision.io import ImageReadMode, decode_jpeg, encode_jpeg

    x = images(2, size=16)
    ours = JPEG(60)(x)
    with warnings.catch_warnings():  # torchvision deprecates its image IO; it is only the reference here
        warnings.simplefilter("ignore")
        for image, out in zip(x, ours):
            encoded = encode_jpeg((image * 255).round().byte(), quality=60)
            reference = decode_jpeg(encoded, mode=ImageReadMode.GRAY).float() / 255
            assert (out - reference).abs().max() <= 2 / 255
    assert (JPEG(100)(x) - x).abs().max() < 0.05


def test_tv_minimisation_lowers_total_variation():
    x = images(2, size=16)
    out = TVMinimisation(0.2)(x)
    tv = lambda t: (t[..., 1:, :] - t[..., :-1, :]).abs().sum() + (t[..., 1:] - t[..., :-1]).abs().sum()  # noqa: E731
    assert tv(out) < 0.5 * tv(x)


def test_bad_purifier_specs_are_one_line_errors():
    for spec in ("blur:3", "jpeg", "jpeg:high", "bit-depth:0", "median:4", "tv:-1", "jpeg:101"):
        with pytest.raises(AdvkitError):
            load_purifier(spec)
