"""The denoising-GAN trainer: a generator G maps a noisy image to a clean one; a discriminator D judges it.

Losses per step (minimized; ``y`` noisy, ``x`` clean, ``G(y)`` the estimate)::

    L_D = d_loss(D(x | y), D(G(y) | y))                               (advkit.gan.losses, --loss)
    L_G = content_weight * |G(y) - x|_1   +   adv_weight * g_loss(D(G(y) | y))

``--blind`` trains the noise-level-map model (``denoise-blind-unet``, :mod:`advkit.denoise.blind`): each
crop gets its own sigma, uniform in [0, ``--noise-std-max``], and the first ``--clip-fraction`` of every
batch is clipped to [0, 1] as an 8-bit file would be; ``--channels 1`` trains on grey images.
``--data mnist`` / ``fashion-mnist`` (with ``--channels 1``) trains on the whole 28x28 training images, unflipped
(the purifier ``denoiser:CKPT`` of MagNet, Meng & Chen 2017); ``--val-split N`` holds out the last N of them.
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

import functools
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from advkit.data.folders import ImageCrops
from advkit.data.paths import image_folder
from advkit.data.images import list_images, load_image, load_image_uint8
from advkit.denoise.options import ARCHS
from advkit.denoise.noise import add_noise, image_seed
from advkit.errors import AdvkitError
from advkit.gan.losses import d_loss, g_loss
from advkit.models.registry import build_model
from advkit.runtime.amp import autocast, channels_last, training_bf16
from advkit.runtime.modules import eval_mode
from advkit.train.base import Trainer
from advkit.train.denoise_config import TENSOR_SETS, DenoiseConfig
from advkit.values import takes_noise_level


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


@functools.lru_cache(maxsize=1)  # read once for the crops and once more for validation: parsing MNIST takes seconds
def _training_split_uint8(data: str) -> torch.Tensor:
    from advkit.data import load_dataset

    return load_dataset(data, "train").images.mul(255).round_().to(torch.uint8)  # stored as k / 255: exact


def split_tensor_set(data: str, val_split: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(training, held-out) uint8 [N, 1, 28, 28] images of ``data``'s training split (mnist, fashion-mnist): the
    last ``val_split`` are held out. The test split is never read: it is for the reported numbers only."""
    images = _training_split_uint8(data)
    if val_split >= len(images):
        raise AdvkitError(f"--val-split {val_split} leaves no training image in {data} ({len(images)} images)")
    return (images[:-val_split], images[-val_split:]) if val_split else (images, images[:0])


def training_crops(data: str, crop: int, device: torch.device, mode: str = "RGB", val_split: int = 0) -> ImageCrops:
    """``--data``: ``stl10`` (torchvision's binary files) or an image folder, crops with all 8 symmetries; or
    ``mnist`` / ``fashion-mnist``, whole images with none (a flipped 2 or a mirrored shoe is not one)."""
    if data in TENSOR_SETS:
        train, _ = split_tensor_set(data, val_split)
        return ImageCrops(train, crop, device, "none", f"{data} training split")
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
        self._bf16 = training_bf16(self.device, c.bf16, c.cpu_bf16, self.session.warn)
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
        if c.val_split and c.data in TENSOR_SETS:
            held_out = split_tensor_set(c.data, c.val_split)[1][: c.val_images]
            first = len(self.data)  # the held-out images follow the training ones in the split
            images = [(f"{c.data}-train-{first + i}", im.float() / 255) for i, im in enumerate(held_out)]
        elif c.val_split:
            images = [(p.name, load_image(p, self.mode)) for p in split_files(c.data, c.val_split)[1][: c.val_images]]
        elif c.val:
            if image_folder(c.val).resolve() == image_folder(c.data).resolve():
                raise AdvkitError("--val is the training folder: validate on held-out images (--val-split N, or "
                                  "e.g. CBSD68 when training on CBSD432)")
            images = [(p.name, load_image(p, self.mode)) for p in list_images(image_folder(c.val))[: c.val_images]]
        else:
            return []
        out = []
        for name, clean in images:
            for sigma in (VAL_SIGMAS if c.blind else (c.noise_std,)):
                noisy = add_noise(clean, sigma, seed=image_seed(self.seed, name), mode=c.noise_mode,
                                  clip=c.clip_fraction == 1)
                out.append((name, clean[None], noisy[None], sigma))
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
        return self.G(noisy, sigma) if takes_noise_level(self.G) else self.G(noisy)

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
