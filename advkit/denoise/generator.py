"""Denoising generators: a convolutional encoder (4x4, stride 2) followed by a transposed-convolution decoder.

Members of the same family, all registered models (rebuilt from a checkpoint alone):

* ``denoise-original`` (``--arch original``) -- the source's generator exactly (chenrudan/denoise_dcgan,
  built on carpedm20's DCGAN-tensorflow; the blog post's layer code): two 4x4 stride-2 convolutions and two
  4x4 stride-2 transposed convolutions, width 16, ReLU after each but the last (tanh), no batch norm,
  weights drawn from N(0, 0.001) and zero biases: 17 987 parameters at width 16. Trained at lr 1e-5.
* ``denoise-original-bn`` (``--arch original-bn``) -- the same 2 + 2 layers made trainable by DCGAN's
  practice: width 64, LeakyReLU 0.2 in the encoder, batch norm on the inner layers, N(0, 0.02) weights.
* ``denoise-unet`` -- advkit's default, the same encoder/decoder with what makes it work:
  **skip connections** (U-Net, Ronneberger et al. 2015: the decoder gets the encoder's full-resolution
  features back, so fine detail need not squeeze through the bottleneck), **residual blocks** at every
  scale, and **residual learning of the noise** (DnCNN, Zhang et al. 2017): the network predicts the noise
  ``n_hat`` and returns ``y - n_hat``, which is nearly the identity at initialization and trains much faster.
  Normalization is an option (``norm``); the default was chosen by measurement (docs/results/denoise.md).

Shapes: input and output ``[B, 3, H, W]`` in [0, 1] units (the noisy input may leave [0, 1]). Fully
convolutional: any H, W. The input is reflect-padded up to a multiple of the total stride and the output
cropped back, so output size == input size for odd sizes too.

    >>> G = build_model("denoise-unet", {})                      # or UNetDenoiser(UNetDenoiserConfig())
    >>> clean_hat = G(noisy)                                     # [B, 3, H, W]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from advkit.denoise.options import NORMS
from advkit.errors import AdvkitError
from advkit.models.registry import register_model
from advkit.values import takes_noise_level


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(min(8, channels), channels)
    return nn.Identity()


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad H and W up to a multiple of ``multiple``; returns the padded tensor and the original size."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        # reflect needs pad < size; tiny images fall back to replicate padding.
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


class _FullyConvolutional(nn.Module, ABC):
    """Pads to the stride, runs :meth:`body`, crops back: any image size in, the same size out."""
    stride: int = 1

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        if noisy.dim() != 4 or noisy.shape[1] != self.config.channels:
            raise AdvkitError(f"denoiser expects [B, {self.config.channels}, H, W] images; got {tuple(noisy.shape)}")
        padded, (h, w) = pad_to_multiple(noisy, self.stride)
        return self.body(padded)[..., :h, :w]

    @abstractmethod
    def body(self, x: torch.Tensor) -> torch.Tensor:
        """The network on an input whose sides are multiples of ``stride``."""


# ----------------------------------------------------------------------------------------------- original
class _DCGANDenoiser(_FullyConvolutional):
    """conv 4x4/2 -> conv 4x4/2 -> deconv 4x4/2 -> deconv 4x4/2 -> tanh, between [0, 1] and DCGAN's [-1, 1]."""
    stride = 4

    def _init_weights(self, std: float) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        # The DCGAN generator lives in [-1, 1] (tanh); advkit images in [0, 1].
        return (self.net(x * 2 - 1) + 1) / 2


@dataclass
class OriginalDenoiserConfig:
    channels: int = 3
    width: int = 16  # the source's first-layer filters (17 987 parameters in all)


@register_model("denoise-original", OriginalDenoiserConfig)
class OriginalDenoiser(_DCGANDenoiser):
    """The source: conv(3->16) relu, conv(16->32) relu, deconv(32->16) relu, deconv(16->3) tanh; N(0, 0.001)."""

    def __init__(self, config: OriginalDenoiserConfig):
        super().__init__()
        self.config = config
        c, w = config.channels, config.width
        self.net = nn.Sequential(
            nn.Conv2d(c, w, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(w, c, 4, 2, 1), nn.Tanh())
        self._init_weights(0.001)  # the source's random_normal_initializer(stddev=0.001)


@dataclass
class OriginalBNDenoiserConfig:
    channels: int = 3
    width: int = 64  # DCGAN's gf_dim / df_dim


@register_model("denoise-original-bn", OriginalBNDenoiserConfig)
class OriginalBNDenoiser(_DCGANDenoiser):
    """conv(3->64) lrelu, conv(64->128) BN lrelu, deconv(128->64) BN relu, deconv(64->3) tanh; N(0, 0.02)."""

    def __init__(self, config: OriginalBNDenoiserConfig):
        super().__init__()
        self.config = config
        c, w = config.channels, config.width
        self.net = nn.Sequential(
            nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, c, 4, 2, 1), nn.Tanh())
        self._init_weights(0.02)  # DCGAN initialization


# ----------------------------------------------------------------------------------------------- U-Net
@dataclass
class UNetDenoiserConfig:
    channels: int = 3
    width: int = 48          # channels at full resolution; doubled at each stride-2 level
    levels: int = 3          # stride-2 encoder steps (total stride 2**levels)
    blocks: int = 1          # residual blocks per scale, on each side
    norm: str = "batch"      # none | batch | group (batch: +0.12 dB over none on CBSD68, measured)
    residual: bool = True    # predict the noise and subtract it (DnCNN); False: predict the clean image

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise AdvkitError(f"--norm must be one of {', '.join(NORMS)}; got {self.norm!r}")
        for name in ("channels", "width", "levels", "blocks"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"denoiser {name} must be a positive integer; got {getattr(self, name)}")


class ResBlock(nn.Module):
    """x + conv3x3(relu(norm(conv3x3(x)))): keeps the resolution, eases optimization of deep stacks."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), _norm(norm, channels), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, 1, 1), _norm(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


@register_model("denoise-unet", UNetDenoiserConfig)
class UNetDenoiser(_FullyConvolutional):
    """head 3x3 -> [res blocks, 4x4/2 conv] x levels -> res blocks -> [4x4/2 deconv, + skip, res blocks] x levels -> 3x3."""
    map_channels = 0  # extra input channels after the image (the noise-level map of denoise-blind-unet)

    def __init__(self, config: UNetDenoiserConfig):
        super().__init__()
        self.config = config
        self.stride = 2 ** config.levels
        widths = [config.width * 2 ** i for i in range(config.levels + 1)]
        blocks = lambda w: nn.Sequential(*[ResBlock(w, config.norm) for _ in range(config.blocks)])  # noqa: E731
        self.head = nn.Conv2d(config.channels + self.map_channels, widths[0], 3, 1, 1)
        self.encoders = nn.ModuleList(blocks(w) for w in widths[:-1])
        self.downs = nn.ModuleList(nn.Sequential(nn.Conv2d(a, b, 4, 2, 1), nn.ReLU()) for a, b in zip(widths, widths[1:]))
        self.middle = blocks(widths[-1])
        self.ups = nn.ModuleList(nn.Sequential(nn.ConvTranspose2d(b, a, 4, 2, 1), nn.ReLU())
                                 for a, b in zip(widths, widths[1:]))
        self.decoders = nn.ModuleList(blocks(w) for w in widths[:-1])
        self.tail = nn.Conv2d(widths[0], config.channels, 3, 1, 1)
        # The residual branch starts at zero, so the untrained net is the identity (residual=True) -- a
        # PSNR of the noisy input, not of noise -- and training only has to learn the correction.
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.head(x))
        skips = []
        for encode, down in zip(self.encoders, self.downs):
            h = encode(h)
            skips.append(h)
            h = down(h)
        h = self.middle(h)
        for up, decode, skip in zip(reversed(self.ups), reversed(self.decoders), reversed(skips)):
            h = decode(up(h) + skip)  # additive skips: as good as concatenation here, and half the weights
        out = self.tail(h)
        # x may carry extra map channels after the image: the residual is subtracted from the image alone.
        return x[:, :self.config.channels] - out if self.config.residual else out



def receptive_field(model: nn.Module, size: int = 257) -> int:
    """Measured receptive field (pixels, one side) of a denoiser: the extent of the input gradient of one output pixel.

    Measured on a copy with small positive random weights (float64), so no ReLU is dead and no branch is zero
    (the trained tail of a residual net may start at zero): the result is the architecture's full extent.
    """
    import copy
    import dataclasses

    # The extent does not depend on the channel count: probe a width-1 twin (cheap at any image size).
    config = model.config
    if dataclasses.is_dataclass(config) and hasattr(config, "width"):
        probe = type(model)(dataclasses.replace(config, width=1)).double().eval()
    else:
        probe = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for p in probe.parameters():
            p.uniform_(0.0, 0.05)
    x = torch.rand(1, probe.config.channels, size, size, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():  # callers may be inside no_grad (inference)
        out = probe(x, 25.0) if takes_noise_level(probe) else probe(x)
        out[0, :, size // 2, size // 2].sum().backward()
    touched = torch.nonzero(x.grad.abs().sum((0, 1)).sum(1))
    return int(touched.max() - touched.min() + 1)
