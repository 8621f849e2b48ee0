"""GAN generators and discriminators: the source's MLP GAN and DCGAN; variants are config values.

* ``mlp`` (the TF MNIST source, Goodfellow et al. 2014): G: z (100-d, uniform in [-1, 1]) -> 128 ReLU -> 784
  sigmoid; D: 784 -> 128 ReLU -> 1 logit. Weights ~ N(0, 1/sqrt(fan_in/2)) (the source's "xavier_init"),
  biases zero. ``out_shape=[2]`` and ``output="linear"`` make the same MLP a toy-data GAN (ring, 1-D).
* ``dcgan`` (Radford et al. 2015): G projects z with a linear layer to a ``[c, s, s]`` block (s = 7 for
  28 px, 4 for 32 and 64 px), then 4x4 stride-2 transposed convolutions with batch norm and ReLU double the
  size up to the image, tanh out. D mirrors it: 4x4 stride-2 convolutions, LeakyReLU(0.2), batch norm on all
  but the first layer, one linear logit.
* conditional (Mirza & Osindero 2014): ``num_classes = K > 0`` joins a one-hot label to z (G) and to D's
  input (as K constant planes for images).
* ``spectral_norm`` (Miyato et al. 2018) divides every D weight by its largest singular value (power
  iteration); ``norm`` picks D's normalization (batch | layer | none: WGAN-GP forbids batch norm in D).
* ``pack = m`` (PacGAN, Lin et al. 2018): D scores m samples at once (concatenated), so a generator that
  collapses is seen as one: input ``[B, ...]`` gives ``B / m`` logits.

Shapes: G(z ``[B, z_dim]``, y ``[B]`` or None) -> ``[B, *out_shape]`` in the output range; ``G.images(z, y)``
maps it to [0, 1]. D(x ``[B, *shape]``, y) -> logits ``[B / pack]``.

    >>> G = build_model("mlp-g", {})                        # the source's generator
    >>> x = G.images(G.noise(16, torch.Generator()))       # [16, 1, 28, 28] in [0, 1]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from advkit.errors import AdvkitError
from advkit.models.registry import register_model
from advkit.runtime.device import to_device

OUTPUTS = ("sigmoid", "tanh", "linear")
NORMS = ("batch", "layer", "none")


def _source_init(module: nn.Module) -> None:
    """The TF source's ``xavier_init``: N(0, std = 1/sqrt(fan_in/2)), zero biases (He-style std in fact)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 1.0 / math.sqrt(m.weight.shape[1] / 2.0))  # weight [out, in]: fan_in = in
            nn.init.zeros_(m.bias)


def _dcgan_init(module: nn.Module) -> None:
    """Radford et al.: weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class _Generator(nn.Module):
    """What every generator shares: noise, output range, the map to [0, 1] images."""

    config: object

    def noise(self, n: int, generator: torch.Generator | None = None, truncation: float | None = None) -> torch.Tensor:
        """z from G's prior (``config.prior``: U[-1, 1]^z_dim, or N(0, I) truncated at ``truncation`` when given),
        drawn on the CPU (device-independent, resumable) and moved to G's device (through pinned memory: the copy
        does not make the host wait for the GPU)."""
        from advkit.gan.latent import gaussian_latent, uniform_latent

        if getattr(self.config, "prior", "uniform") == "gaussian":
            z = gaussian_latent(n, self.config.z_dim, generator, truncation)
        elif truncation is not None:
            raise AdvkitError("--truncation applies to a gaussian prior; this generator was trained with uniform noise")
        else:
            z = uniform_latent(n, self.config.z_dim, generator)
        return to_device(z, next(self.parameters()).device)

    def images(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Samples mapped to [0, 1] (for grids and metrics)."""
        out = self(z, labels).float()
        return (out + 1) / 2 if self.config.output == "tanh" else out

    def _join_label(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.config.num_classes <= 0:
            return z
        if labels is None:
            raise AdvkitError("this generator is conditional (num_classes > 0): pass labels (--label k)")
        return torch.cat([z, F.one_hot(labels.long(), self.config.num_classes).to(z.dtype)], dim=1)


def _finish(x: torch.Tensor, output: str) -> torch.Tensor:
    return torch.sigmoid(x) if output == "sigmoid" else torch.tanh(x) if output == "tanh" else x


def _check_common(config) -> None:
    if getattr(config, "output", "linear") not in OUTPUTS:
        raise AdvkitError(f"output must be one of {', '.join(OUTPUTS)}; got {config.output!r}")
    if getattr(config, "norm", "none") not in NORMS:
        raise AdvkitError(f"--d-norm must be one of {', '.join(NORMS)}; got {config.norm!r}")
    if config.num_classes < 0:
        raise AdvkitError(f"--num-classes must be >= 0 (0 = unconditional); got {config.num_classes}")
    if getattr(config, "pack", 1) < 1:
        raise AdvkitError(f"--pack must be >= 1; got {config.pack}")


# ----------------------------------------------------------------------------------------------- MLP
@dataclass
class MLPGeneratorConfig:
    z_dim: int = 100
    hidden: int = 128
    layers: int = 1  # hidden layers (the source: 1)
    out_shape: list[int] = field(default_factory=lambda: [1, 28, 28])
    output: str = "sigmoid"
    num_classes: int = 0
    prior: str = "uniform"


@register_model("mlp-g", MLPGeneratorConfig)
class MLPGenerator(_Generator):
    def __init__(self, config: MLPGeneratorConfig):
        super().__init__()
        _check_common(config)
        self.config = config
        width, blocks = config.z_dim + config.num_classes, []
        for _ in range(config.layers):
            blocks += [nn.Linear(width, config.hidden), nn.ReLU()]
            width = config.hidden
        self.net = nn.Sequential(*blocks, nn.Linear(width, math.prod(config.out_shape)))
        _source_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        out = _finish(self.net(self._join_label(z, labels)), self.config.output)
        return out.view(z.shape[0], *self.config.out_shape)


@dataclass
class MLPDiscriminatorConfig:
    in_shape: list[int] = field(default_factory=lambda: [1, 28, 28])
    hidden: int = 128
    layers: int = 1
    num_classes: int = 0
    spectral_norm: bool = False
    pack: int = 1


def _maybe_sn(layer: nn.Module, on: bool) -> nn.Module:
    return _spectral_norm(layer) if on else layer


def _pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """[B, C, ...] -> [B/m, m*C, ...]: consecutive samples become one D input (PacGAN)."""
    if m == 1:
        return x
    if x.shape[0] % m:
        raise AdvkitError(f"--pack {m}: the batch ({x.shape[0]}) must be a multiple of the pack size")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


@register_model("mlp-d", MLPDiscriminatorConfig)
class MLPDiscriminator(nn.Module):
    def __init__(self, config: MLPDiscriminatorConfig):
        super().__init__()
        _check_common(config)
        self.config = config
        width, blocks = config.pack * (math.prod(config.in_shape) + config.num_classes), []
        for _ in range(config.layers):
            blocks += [_maybe_sn(nn.Linear(width, config.hidden), config.spectral_norm), nn.ReLU()]
            width = config.hidden
        self.net = nn.Sequential(*blocks, _maybe_sn(nn.Linear(width, 1), config.spectral_norm))
        _source_init(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        h = x.reshape(x.shape[0], -1)
        if self.config.num_classes > 0:
            h = torch.cat([h, F.one_hot(labels.long(), self.config.num_classes).to(h.dtype)], dim=1)
        return self.net(_pack(h, self.config.pack)).view(-1)


# ----------------------------------------------------------------------------------------------- DCGAN
def _layout(image_size: int) -> tuple[int, int]:
    """(start size s, number of stride-2 layers n) with s * 2^n = image_size."""
    if image_size == 28:
        return 7, 2
    if image_size in (32, 64):
        return 4, int(math.log2(image_size // 4))
    raise AdvkitError(f"--image-size for dcgan must be 28, 32 or 64; got {image_size}")


@dataclass
class DCGANGeneratorConfig:
    z_dim: int = 100
    channels: int = 1
    image_size: int = 28
    base_channels: int = 64
    num_classes: int = 0
    output: str = "tanh"
    prior: str = "uniform"


@register_model("dcgan-g", DCGANGeneratorConfig)
class DCGANGenerator(_Generator):
    def __init__(self, config: DCGANGeneratorConfig):
        super().__init__()
        _check_common(config)
        self.config = config
        s, n = _layout(config.image_size)
        width = config.base_channels * 2 ** (n - 1)
        self.start = (width, s)
        # "Project and reshape" (Radford et al., fig. 1): a linear map of z to the first feature block.
        self.project = nn.Sequential(nn.Linear(config.z_dim + config.num_classes, width * s * s, bias=False),
                                     nn.BatchNorm1d(width * s * s), nn.ReLU(True))
        blocks = []
        for _ in range(n - 1):
            blocks += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        blocks.append(nn.ConvTranspose2d(width, config.channels, 4, 2, 1))
        self.net = nn.Sequential(*blocks)
        _dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        width, s = self.start
        h = self.project(self._join_label(z, labels)).view(z.shape[0], width, s, s)
        return _finish(self.net(h), self.config.output)


@dataclass
class DCGANDiscriminatorConfig:
    channels: int = 1
    image_size: int = 28
    base_channels: int = 64
    num_classes: int = 0
    spectral_norm: bool = False
    norm: str = "batch"
    pack: int = 1


@register_model("dcgan-d", DCGANDiscriminatorConfig)
class DCGANDiscriminator(nn.Module):
    def __init__(self, config: DCGANDiscriminatorConfig):
        super().__init__()
        _check_common(config)
        self.config = config
        s, n = _layout(config.image_size)
        width_in, width, blocks = config.pack * (config.channels + config.num_classes), config.base_channels, []
        for i in range(n):
            blocks.append(_maybe_sn(nn.Conv2d(width_in, width, 4, 2, 1, bias=i == 0), config.spectral_norm))
            if i > 0 and config.norm == "batch":  # Radford et al.: no batch norm on D's input layer
                blocks.append(nn.BatchNorm2d(width))
            elif i > 0 and config.norm == "layer":
                blocks.append(nn.GroupNorm(1, width))  # layer norm over (C, H, W), per sample
            blocks.append(nn.LeakyReLU(0.2, True))
            width_in, width = width, width * 2
        self.net = nn.Sequential(*blocks)
        self.head = _maybe_sn(nn.Linear(width_in * s * s, 1), config.spectral_norm)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.config.num_classes > 0:
            planes = F.one_hot(labels.long(), self.config.num_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)
        h = self.net(_pack(x, self.config.pack))
        return self.head(h.flatten(1)).view(-1)


def has_batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
