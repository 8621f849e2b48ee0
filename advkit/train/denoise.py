"""The denoising-GAN trainer: a generator G maps a noisy image to a clean one; a discriminator D judges it.

Losses per step (minimized; ``y`` noisy, ``x`` clean, ``G(y)`` the estimate)::

    L_D = d_loss(D(x | y), D(G(y) | y))                               (advkit.gan.losses, --loss)
    L_G = content_weight * |G(y) - x|_1   +   adv_weight * g_loss(D(G(y) | y))

``--blind`` trains the noise-level-map model (``denoise-blind-unet``, :mod:`advkit.denoise.blind`): each
crop gets its own sigma, uniform in [0, ``--noise-std-max``], and the first ``--clip-fraction`` of every
batch is clipped to [0, 1] as an 8-bit file would be; ``--channels 1`` trains on grey images.
``--content-weight 0`` is the source's pure adversarial training; ``--adv-weight 0`` trains G alone on the
content loss (no D is built). ``--arch original --content-weight 0 --no-d-conditional --no-d-patch
--noise-mode compat`` is the source's whole setup. The base :class:`~advkit.train.base.Trainer` owns the
loop, checkpoints, exact resume, logging, Ctrl-C and the NaN guard; this file writes only the step.

Speed (what lets a GPU train the shipped model in minutes): the training images are one uint8 tensor on
the device (portrait images turned to landscape, a valid augmentation with the flips), so a batch of random
crops is one gather; the Gaussian noise is drawn on the device (:func:`advkit.denoise.noise.add_noise`,
``on_device``) from a seed that the trainer's CPU generator draws (so a resumed run draws the same noise);
bf16 autocast and channels_last on CUDA; the learning rate follows a cosine decay, a function of the step
alone (nothing extra to checkpoint).

    >>> config = DenoiseConfig(data="CBSD432", val_split=32)       # `advkit data fetch CBSD432`, or any folder
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
from advkit.data.paths import image_folder
from advkit.data.images import list_images, load_image, load_image_uint8
from advkit.denoise.generator import ARCHS, NORMS
from advkit.denoise.noise import MODES, add_noise, check_sigma, image_seed
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
    data: str = field(default="CBSD432", metadata={
        "help": "Training images: an image folder (random crops + flips) or stl10 (96x96 STL-10, train + unlabeled)."})
    val: str = field(default="", metadata={"help": "Validation image folder for PSNR (e.g. CBSD68; '' = none). "
                                                   "Never a folder you report test numbers on."})
    val_images: int = field(default=8, metadata={"help": "Validation images used (the first N of --val)."})
    crop: int = field(default=96, metadata={"help": "Training crop size (the source: 96, STL-10's size)."})
    noise_std: float = field(default=50.0, metadata={"help": "Gaussian noise std on the 0-255 scale (sigma)."})
    noise_mode: str = field(default="iid", metadata={"help": "iid, or compat (the source's shared field + min-max).",
                                                     "choices": MODES})
    clip: bool = field(default=False, metadata={"help": "Clamp noisy training inputs to [0, 1]."})
    blind: bool = field(default=False, metadata={"help": "Train a blind model (denoise-blind-unet: the noise level is "
                                                         "an input map) over sigma uniform in [0, --noise-std-max]."})
    noise_std_max: float = field(default=75.0, metadata={"help": "--blind: the largest training sigma (0-255 scale)."})
    clip_fraction: float = field(default=0.0, metadata={"help": "Fraction of each batch clamped to [0, 1] "
                                                                "(8-bit files clip; --clip is 1)."})
    channels: int = field(default=3, metadata={"help": "3 colour, or 1: grey images (training and validation "
                                                       "images read as grey)."})
    val_split: int = field(default=0, metadata={"help": "Hold out the last N images of --data (sorted) for "
                                                        "validation instead of --val."})
    arch: str = field(default="unet", metadata={"help": "unet (advkit's), original (the source's 2 conv + 2 deconv "
                                                        "exactly: width 16, ReLU, no batch norm, N(0, 0.001), lr 1e-5) "
                                                        "or original-bn (the same, width 64 with batch norm).",
                                                "choices": tuple(ARCHS)})
    width: int = field(default=32, metadata={"help": "G's channels at full resolution (unet; original: 16, "
                                                     "original-bn: 64)."})
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
    lr: float | None = field(default=None, metadata={"help": "G's learning rate (default: 1e-3 unet, 1e-5 original, 2e-4 original-bn); "
                                                      "cosine decay."})
    d_lr: float = field(default=2e-4, metadata={"help": "D's learning rate (Adam, beta1 0.5, as DCGAN)."})
    bf16: bool = field(default=True, metadata={"help": "bf16 autocast on CUDA (on the CPU see --cpu-bf16)."})
    cpu_bf16: bool = field(default=False, metadata={"help": "bf16 autocast on the CPU too, where it is native (AVX512-BF16/AMX; about 2x faster steps here, bench/bench_dcgan.py); refused where emulated."})
    grid: int = field(default=8, metadata={"help": "Columns of the noisy | denoised | clean sample grid."})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_sigma(self.noise_std)
        check_sigma(self.noise_std_max)
        if not 0 <= self.clip_fraction <= 1:
            raise AdvkitError(f"--clip-fraction must be in [0, 1]; got {self.clip_fraction}")
        if self.clip:
            self.clip_fraction = 1.0
        if self.channels not in (1, 3):
            raise AdvkitError(f"--channels must be 3 (colour) or 1 (grey); got {self.channels}")
        if self.blind and self.arch != "unet":
            raise AdvkitError(f"--blind trains the U-Net with a noise-level map; drop --arch {self.arch}")
        if self.val_split < 0 or (self.val_split and self.val):
            raise AdvkitError("--val-split N (>= 0) holds out training images for validation; pass it or --val, not both")
        if self.arch not in ARCHS:
            raise AdvkitError(f"--arch must be one of {', '.join(ARCHS)}; got {self.arch!r}")
        if self.loss not in LOSSES:
            raise AdvkitError(f"--loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        for name in ("content_weight", "adv_weight", "lr", "d_lr"):
            value = getattr(self, name)
            if value is not None and (value != value or value < 0):
                raise AdvkitError(f"--{name.replace('_', '-')} must be >= 0; got {value}")
        if self.content_weight == 0 and self.adv_weight == 0:
            raise AdvkitError("--content-weight and --adv-weight are both 0: nothing to train; set one of them > 0")
        for name in ("crop", "width", "levels", "blocks", "d_width", "d_layers", "grid", "val_images"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(self, name)}")
        if self.arch != "unet" and self.width == 32:
            self.width = {"original": 16, "original-bn": 64}[self.arch]  # the source's width / DCGAN's gf_dim
        if self.lr is None:  # resolved here, so config.json and checkpoints hold the rate used
            self.lr = {"unet": 1e-3, "original": 1e-5, "original-bn": 2e-4}[self.arch]


VAL_SIGMAS = (15.0, 25.0, 50.0)  # --blind: validation PSNR is the mean over these noise levels


def generator_args(c: DenoiseConfig) -> tuple[str, dict]:
    if c.arch != "unet":
        return ARCHS[c.arch], {"channels": c.channels, "width": c.width}
    args = {"channels": c.channels, "width": c.width, "levels": c.levels, "blocks": c.blocks, "norm": c.norm,
            "residual": c.residual}
    return ("denoise-blind-unet" if c.blind else "denoise-unet"), args


def split_files(data: str, val_split: int) -> tuple[list[Path], list[Path]]:
    """(training files, validation files): the last ``val_split`` sorted images of ``data`` are held out."""
    files = list_images(image_folder(data))
    if val_split >= len(files):
        raise AdvkitError(f"--val-split {val_split} leaves no training image in {data} ({len(files)} images)")
    return (files[:-val_split], files[-val_split:]) if val_split else (files, [])


def training_crops(data: str, crop: int, device: torch.device, mode: str = "RGB", val_split: int = 0) -> ImageCrops:
    """``--data``: ``stl10`` (torchvision's binary files) or an image folder; crops with all 8 symmetries."""
    if data == "stl10":
        if val_split or mode != "RGB":
            raise AdvkitError("--data stl10 is colour with no held-out split; use an image folder for --val-split / --channels 1")
        return ImageCrops.from_stl10(crop, device)
    folder = image_folder(data)
    if not folder.is_dir():
        raise AdvkitError(f"--data {data}: no such image folder; pass a folder of PNG/JPEG training images, a set name "
                          "(CBSD432, Train400: `advkit data fetch CBSD432`) or stl10")
    files, _ = split_files(data, val_split)
    images = [load_image_uint8(f, mode) for f in files]
    return ImageCrops(images, crop, device, "dihedral", folder.name, [f.name for f in files])


class DenoiseTrainer(Trainer):
    config: DenoiseConfig

    def build(self) -> None:
        c = self.config
        self.mode = "L" if c.channels == 1 else "RGB"
        self.data = training_crops(c.data, c.crop, self.device, self.mode, c.val_split)
        g_name, g_args = generator_args(c)
        self.models["G"] = build_model(g_name, g_args).to(self.device)
        self.optimizers["G"] = torch.optim.Adam(self.G.parameters(), lr=c.lr, betas=(0.9, 0.999) if c.arch == "unet"
                                                else (0.5, 0.999))
        if c.adv_weight > 0:
            self.models["D"] = build_model("denoise-d", {
                "channels": c.channels, "width": c.d_width, "layers": c.d_layers, "conditional": c.d_conditional,
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
        self.grid_noisy, self.grid_sigma = self._corrupt(self.grid_clean, fixed)
        self.best_psnr = -math.inf

    @property
    def G(self):
        return self.models["G"]

    def _load_val(self) -> list[tuple[str, torch.Tensor, torch.Tensor, float]]:
        """(name, clean, noisy, sigma) per validation image and noise level (``VAL_SIGMAS`` for --blind)."""
        c = self.config
        if c.val_split:
            files = split_files(c.data, c.val_split)[1][: c.val_images]
        elif c.val:
            if image_folder(c.val).resolve() == image_folder(c.data).resolve():
                raise AdvkitError("--val is the training folder: validate on held-out images (--val-split N, or "
                                  "e.g. CBSD68 when training on CBSD432)")
            files = list_images(image_folder(c.val))[: c.val_images]
        else:
            return []
        out = []
        for path in files:
            clean = load_image(path, self.mode)
            for sigma in (VAL_SIGMAS if c.blind else (c.noise_std,)):
                noisy = add_noise(clean, sigma, seed=image_seed(self.seed, path.name), mode=c.noise_mode,
                                  clip=c.clip_fraction == 1)
                out.append((path.name, clean[None], noisy[None], sigma))
        return out

    def _corrupt(self, clean: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | float]:
        """(noisy batch, its sigma: a float, or [B] per image for --blind); noise drawn on the GPU when there."""
        c = self.config
        b = len(clean)
        sigma = torch.rand(b, generator=generator) * c.noise_std_max if c.blind else c.noise_std
        clip: bool | torch.Tensor = c.clip_fraction == 1
        if 0 < c.clip_fraction < 1:  # the first round(fraction * B) crops of every batch are clipped
            clip = torch.arange(b) < round(c.clip_fraction * b)
        noisy = add_noise(clean, sigma, generator=generator, mode=c.noise_mode, clip=clip, on_device=self.cuda)
        return noisy, sigma

    def _generate(self, noisy: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        return self.G(noisy, sigma) if self.config.blind else self.G(noisy)

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
        noisy, sigma = self._corrupt(clean, self.generator)
        clean, noisy = channels_last(clean, enabled=self.cuda), channels_last(noisy, enabled=self.cuda)
        figures: dict[str, float] = {}
        with self._autocast():
            estimate = self._generate(noisy, sigma)
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
    def denoise(self, noisy: torch.Tensor, sigma: torch.Tensor | float) -> torch.Tensor:
        with eval_mode(self.G), self._autocast():
            return self._generate(noisy.to(self.device), sigma).float().clamp(0, 1)

    def sample(self, step: int) -> None:
        from torchvision.utils import make_grid, save_image

        estimate = self.denoise(self.grid_noisy, self.grid_sigma).cpu()
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
        for _, clean, noisy, sigma in self.val_set:
            estimate = self.denoise(noisy, sigma).cpu()
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
