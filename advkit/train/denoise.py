"""The denoising-GAN trainer: a generator G maps a noisy image to a clean one; a discriminator D judges it.

Losses per step (minimized; ``y`` noisy, ``x`` clean, ``G(y)`` the estimate)::

    L_D = d_loss(D(x | y), D(G(y) | y))                               (advkit.gan.losses, --loss)
    L_G = content_weight * |G(y) - x|_1   +   adv_weight * g_loss(D(G(y) | y))

``--content-weight 0`` is the source's pure adversarial training; ``--adv-weight 0`` trains G alone on the
content loss (no D is built). ``--arch original --content-weight 0 --no-d-conditional --no-d-patch
--noise-mode compat`` is the source's whole setup. The base :class:`~advkit.train.base.Trainer` owns the
loop, checkpoints, exact resume, logging, Ctrl-C and the NaN guard; this file writes only the step.

Speed (what lets a GPU train the shipped model in minutes): the training images are one uint8 tensor on
the device (portrait images turned to landscape, a valid augmentation with the flips), so a batch of random
crops is one gather; the Gaussian noise is drawn on the device from a seed that the trainer's CPU
generator draws (so a resumed run draws the same noise); bf16 autocast and channels_last on CUDA; the
learning rate follows a cosine decay, a function of the step alone (nothing extra to checkpoint).

    >>> config = DenoiseConfig(data="../shared/data/denoise/CBSD432", val="../shared/data/denoise/CBSD68")
    >>> with open_session("denoise-train", config) as session:
    ...     figures = DenoiseTrainer(config, session).fit()
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from advkit.data.folders import ImageCrops
from advkit.data.images import list_images, load_image
from advkit.denoise.generator import ARCHS, NORMS
from advkit.denoise.noise import MODES, add_noise, check_sigma, image_seed, minmax_rescale
from advkit.errors import AdvkitError
from advkit.gan.losses import LOSSES, d_loss, g_loss
from advkit.models.registry import build_model
from advkit.runtime.amp import autocast, channels_last, training_bf16
from advkit.runtime.modules import eval_mode
from advkit.train.base import Trainer, TrainerConfig


@dataclass
class DenoiseConfig(TrainerConfig):
    """``advkit denoise train`` options; defaults train the shipped model (CBSD432, sigma 50, L1 + small GAN term)."""
    steps: int = field(default=12_000, metadata={"help": "Generator updates."})
    batch_size: int = field(default=64, metadata={"help": "Random crops per batch."})
    sample_every: int = field(default=1000, metadata={"help": "Write a sample grid and validation PSNR every N steps."})
    data: str = field(default="../shared/data/denoise/CBSD432", metadata={
        "help": "Training images: an image folder (random crops + flips) or stl10 (96x96 STL-10, train + unlabeled)."})
    val: str = field(default="", metadata={"help": "Validation image folder for PSNR (e.g. CBSD68; '' = none). "
                                                   "Never a folder you report test numbers on."})
    val_images: int = field(default=8, metadata={"help": "Validation images used (the first N of --val)."})
    crop: int = field(default=96, metadata={"help": "Training crop size (the source: 96, STL-10's size)."})
    noise_std: float = field(default=50.0, metadata={"help": "Gaussian noise std on the 0-255 scale (sigma)."})
    noise_mode: str = field(default="iid", metadata={"help": "iid, or compat (the source's shared field + min-max).",
                                                     "choices": MODES})
    clip: bool = field(default=False, metadata={"help": "Clamp noisy training inputs to [0, 1]."})
    arch: str = field(default="unet", metadata={"help": "unet (advkit's) or original (the source's 2 conv + 2 deconv).",
                                                "choices": tuple(ARCHS)})
    width: int = field(default=32, metadata={"help": "G's channels at full resolution (unet; original: 64)."})
    levels: int = field(default=3, metadata={"help": "unet: stride-2 levels."})
    blocks: int = field(default=1, metadata={"help": "unet: residual blocks per scale and side."})
    norm: str = field(default="batch", metadata={"help": "unet normalization (batch measured best; see "
                                                                 "docs/results/denoise.md).", "choices": NORMS})
    residual: bool = field(default=True, metadata={"help": "unet: learn the noise and subtract it (DnCNN)."})
    content_loss: str = field(default="l1", metadata={"help": "Content loss.", "choices": ("l1", "l2")})
    content_weight: float = field(default=1.0, metadata={"help": "Weight of the content loss (0 = the source's "
                                                                 "pure adversarial training)."})
    adv_weight: float = field(default=1e-3, metadata={"help": "Weight of G's adversarial loss (0 = content only, no D)."})
    loss: str = field(default="ns", metadata={"help": "GAN objective (advkit/gan/losses.py).", "choices": LOSSES})
    d_width: int = field(default=64, metadata={"help": "D's first-layer channels."})
    d_layers: int = field(default=3, metadata={"help": "D's stride-2 conv layers."})
    d_conditional: bool = field(default=True, metadata={"help": "D also sees the noisy input (judges the pair)."})
    d_patch: bool = field(default=True, metadata={"help": "PatchGAN head (one logit per patch) instead of one per image."})
    spectral_norm: bool = field(default=True, metadata={"help": "Spectral norm in D (else batch norm, as DCGAN)."})
    lr: float = field(default=0.0, metadata={"help": "G's learning rate (0 = 1e-3 unet, 2e-4 original); cosine decay."})
    d_lr: float = field(default=2e-4, metadata={"help": "D's learning rate (Adam, beta1 0.5, as DCGAN)."})
    bf16: bool = field(default=True, metadata={"help": "bf16 autocast on CUDA (on the CPU see --cpu-bf16)."})
    cpu_bf16: bool = field(default=False, metadata={"help": "bf16 autocast on the CPU too, where it is native (AVX512-BF16/AMX; about 2x faster steps here, bench/bench_dcgan.py); refused where emulated."})
    grid: int = field(default=8, metadata={"help": "Columns of the noisy | denoised | clean sample grid."})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_sigma(self.noise_std)
        if self.arch not in ARCHS:
            raise AdvkitError(f"--arch must be one of {', '.join(ARCHS)}; got {self.arch!r}")
        if self.loss not in LOSSES:
            raise AdvkitError(f"--loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        for name in ("content_weight", "adv_weight", "lr", "d_lr"):
            value = getattr(self, name)
            if value != value or value < 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be >= 0; got {value}")
        if self.content_weight == 0 and self.adv_weight == 0:
            raise AdvkitError("--content-weight and --adv-weight are both 0: nothing to train; set one of them > 0")
        for name in ("crop", "width", "levels", "blocks", "d_width", "d_layers", "grid", "val_images"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(self, name)}")
        if self.arch == "original" and self.width == 32:
            self.width = 64  # the source's gf_dim
        self.lr = self.lr or (1e-3 if self.arch == "unet" else 2e-4)


def generator_args(c: DenoiseConfig) -> tuple[str, dict]:
    if c.arch == "original":
        return "denoise-original", {"channels": 3, "width": c.width}
    return "denoise-unet", {"channels": 3, "width": c.width, "levels": c.levels, "blocks": c.blocks,
                            "norm": c.norm, "residual": c.residual}


def training_crops(data: str, crop: int, device: torch.device) -> ImageCrops:
    """``--data``: ``stl10`` (torchvision's binary files) or an image folder; crops with all 8 symmetries."""
    if data == "stl10":
        return ImageCrops.from_stl10(crop, device)
    if not Path(data).is_dir():
        raise AdvkitError(f"--data {data}: no such image folder; pass a folder of PNG/JPEG training images "
                          "(e.g. ../shared/data/denoise/CBSD432) or stl10")
    return ImageCrops.from_folder(data, crop, device)


class DenoiseTrainer(Trainer):
    config: DenoiseConfig

    def build(self) -> None:
        c = self.config
        self.data = training_crops(c.data, c.crop, self.device)
        g_name, g_args = generator_args(c)
        self.models["G"] = build_model(g_name, g_args).to(self.device)
        self.optimizers["G"] = torch.optim.Adam(self.G.parameters(), lr=c.lr, betas=(0.9, 0.999) if c.arch == "unet"
                                                else (0.5, 0.999))
        if c.adv_weight > 0:
            self.models["D"] = build_model("denoise-d", {
                "channels": 3, "width": c.d_width, "layers": c.d_layers, "conditional": c.d_conditional,
                "patch": c.d_patch, "image_size": c.crop, "spectral_norm": c.spectral_norm}).to(self.device)
            self.optimizers["D"] = torch.optim.Adam(self.models["D"].parameters(), lr=c.d_lr, betas=(0.5, 0.999))
        self.cuda = self.device.type == "cuda"
        for model in self.models.values():
            channels_last(model, enabled=self.cuda)
        self._bf16 = training_bf16(self.device, c.bf16, c.cpu_bf16)
        self.val_set = self._load_val()
        # A fixed batch for the sample grids: the same crops and noise every time, so grids show progress.
        fixed = torch.Generator().manual_seed(self.seed + 1)
        self.grid_clean = self.data.sample(c.grid, fixed)
        self.grid_noisy = self._corrupt(self.grid_clean, fixed)
        self.best_psnr = -math.inf

    @property
    def G(self):
        return self.models["G"]

    def _load_val(self) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
        c = self.config
        if not c.val:
            return []
        if Path(c.val).resolve() == Path(c.data).resolve():
            raise AdvkitError("--val is the training folder: validate on held-out images (e.g. CBSD68 when training on CBSD432)")
        seed = self.seed
        out = []
        for path in list_images(c.val)[: c.val_images]:
            clean = load_image(path, "RGB")
            noisy = add_noise(clean, c.noise_std, seed=image_seed(seed, path.name), mode=c.noise_mode, clip=c.clip)
            out.append((path.name, clean[None], noisy[None]))
        return out

    def _corrupt(self, clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        if not self.cuda:
            return add_noise(clean, c.noise_std, generator=generator, mode=c.noise_mode, clip=c.clip)
        # On the GPU: noise drawn there (fast), from a seed the CPU generator draws (resumable, reproducible).
        g = torch.Generator(self.device).manual_seed(int(torch.randint(2 ** 62, (1,), generator=generator)))
        shape = clean.shape if c.noise_mode == "iid" else (clean.shape[0], 1, *clean.shape[2:])
        noisy = clean + torch.randn(shape, generator=g, device=self.device) * (c.noise_std / 255.0)
        if c.noise_mode == "compat":
            return minmax_rescale(noisy)
        return noisy.clamp(0, 1) if c.clip else noisy

    def _autocast(self):
        return autocast(self.device, enabled=self._bf16, cpu=True)  # _bf16 already says where

    def _content(self, estimate: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        e, x = estimate.float(), clean
        return F.l1_loss(e, x) if self.config.content_loss == "l1" else F.mse_loss(e, x)

    def train_step(self, step: int) -> dict[str, float]:
        c = self.config
        lr = c.lr * 0.5 * (1 + math.cos(math.pi * step / c.steps))  # cosine decay to 0 over --steps
        for group in self.optimizers["G"].param_groups:
            group["lr"] = lr
        clean = self.data.sample(c.batch_size, self.generator)
        noisy = self._corrupt(clean, self.generator)
        clean, noisy = channels_last(clean, enabled=self.cuda), channels_last(noisy, enabled=self.cuda)
        figures: dict[str, float] = {}
        with self._autocast():
            estimate = self.G(noisy)
        if "D" in self.models:
            D, opt_d = self.models["D"], self.optimizers["D"]
            with self._autocast():
                loss_d = d_loss(c.loss, D(clean, noisy), D(estimate.detach(), noisy))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            figures["loss_d"] = loss_d.item()
        loss_g = torch.zeros((), device=self.device)
        if c.content_weight > 0:
            content = self._content(estimate, clean)
            loss_g = loss_g + c.content_weight * content
            figures["content"] = content.item()
        if "D" in self.models:
            D = self.models["D"]
            D.requires_grad_(False)  # G's step must not accumulate gradients into D
            with self._autocast():
                adv = g_loss(c.loss, D(estimate, noisy))
            D.requires_grad_(True)
            loss_g = loss_g + c.adv_weight * adv
            figures["loss_g_adv"] = adv.item()
        self.optimizers["G"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizers["G"].step()
        figures["loss_g"] = loss_g.item()
        figures["lr"] = lr
        return figures

    @torch.no_grad()
    def denoise(self, noisy: torch.Tensor) -> torch.Tensor:
        with eval_mode(self.G), self._autocast():
            return self.G(noisy.to(self.device)).float().clamp(0, 1)

    def sample(self, step: int) -> None:
        from torchvision.utils import make_grid, save_image

        estimate = self.denoise(self.grid_noisy).cpu()
        rows = torch.cat([self.grid_noisy.cpu().clamp(0, 1), estimate, self.grid_clean.cpu()])  # noisy | denoised | clean
        grid = make_grid(rows, nrow=self.config.grid, padding=2)
        if self.run.main_process:
            save_image(grid, self.run.images / f"step-{step:08d}.png")
            self.run.writer.add_image("samples/noisy|denoised|clean", grid, step)

    def evaluate(self, step: int) -> dict[str, float]:
        if not self.val_set:
            return {}
        from advkit.denoise.evaluate import psnr_ssim

        psnrs = []
        for _, clean, noisy in self.val_set:
            estimate = self.denoise(noisy).cpu()
            psnrs.append(psnr_ssim(clean[0].permute(1, 2, 0).numpy(), estimate[0].permute(1, 2, 0).numpy())["psnr"])
        psnr = float(sum(psnrs) / len(psnrs))
        if psnr > self.best_psnr:
            self.best_psnr = psnr
            self.save(self.run.checkpoints / "best.pt")
        return {"val_psnr": psnr}

    def extra_state(self) -> dict:
        return {"best_psnr": self.best_psnr}

    def load_extra_state(self, state: dict) -> None:
        self.best_psnr = float(state.get("best_psnr", -math.inf))
