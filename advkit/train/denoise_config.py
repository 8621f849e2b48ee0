"""``advkit denoise train``'s configuration, readable without torch (fast ``--help``); the trainer is
:mod:`advkit.train.denoise`."""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.denoise.options import ARCHS, MODES, NORMS
from advkit.errors import AdvkitError
from advkit.gan.loss_catalog import gan_loss, loss_names
from advkit.train.config import TrainerConfig
from advkit.values import parse_noise_level

TENSOR_SETS = ("mnist", "fashion-mnist")  # --data: whole 28x28 grey training images of advkit.data.load_dataset


@dataclass
class DenoiseConfig(TrainerConfig):
    """``advkit denoise train`` options; defaults train the shipped model (CBSD432, sigma 50, L1 + small GAN term)."""
    steps: int = field(default=12_000, metadata={"help": "Generator updates."})
    batch_size: int = field(default=64, metadata={"help": "Random crops per batch."})
    sample_every: int = field(default=1000, metadata={"help": "Write a sample grid and validation PSNR every N steps."})
    data: str = field(default="CBSD432", metadata={
        "help": "Training images: an image folder (random crops + flips), stl10 (96x96 STL-10, train + unlabeled), "
                "or mnist / fashion-mnist (whole 28x28 training images, never flipped; --channels 1)."})
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
    loss: str = field(default="ns", metadata={"help": "GAN objective (advkit/gan/losses.py).", "choices": loss_names})
    d_width: int = field(default=64, metadata={"help": "D's first-layer channels."})
    d_layers: int = field(default=3, metadata={"help": "D's stride-2 conv layers."})
    d_conditional: bool = field(default=True, metadata={"help": "D also sees the noisy input (judges the pair)."})
    d_patch: bool = field(default=True, metadata={"help": "PatchGAN head (one logit per patch) instead of one per image."})
    spectral_norm: bool = field(default=True, metadata={"help": "Spectral norm in D (else batch norm, as DCGAN)."})
    lr: float | None = field(default=None, metadata={"help": "G's learning rate (default: 1e-3 unet, 1e-5 original, 2e-4 original-bn); "
                                                      "cosine decay."})
    d_lr: float = field(default=2e-4, metadata={"help": "D's learning rate (Adam, beta1 0.5, as DCGAN)."})
    bf16: bool = field(default=True, metadata={"help": "bf16 autocast on CUDA (on the CPU see --cpu-bf16)."})
    cpu_bf16: bool = field(default=False, metadata={"help": "bf16 autocast on the CPU too, where it is native (AVX512-BF16/AMX; about 2x faster steps here, bench/bench_dcgan.py); float32 with a warning where emulated."})
    grid: int = field(default=8, metadata={"help": "Columns of the noisy | denoised | clean sample grid."})
    classifier: str = field(default="", metadata={
        "help": "A frozen classifier (as eval robustness --model) for denoised smoothing (Salman et al. 2020): adds its "
                "stability loss CE(f(G(noisy)), f(clean)) with weight --classifier-weight; certify with --denoiser."})
    classifier_weight: float = field(default=1.0, metadata={"help": "Weight of the classifier's stability loss (with --classifier)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.noise_std = parse_noise_level(self.noise_std, allow_auto=False)
        self.noise_std_max = parse_noise_level(self.noise_std_max, "--noise-std-max", allow_auto=False)
        if not 0 <= self.clip_fraction <= 1:
            raise AdvkitError(f"--clip-fraction must be in [0, 1]; got {self.clip_fraction}")
        if self.clip:
            self.clip_fraction = 1.0
        if self.channels not in (1, 3):
            raise AdvkitError(f"--channels must be 3 (colour) or 1 (grey); got {self.channels}")
        if self.data in TENSOR_SETS:  # whole digits / garments: the crop is the image, and it is grey
            if self.crop == 96:
                self.crop = 28  # the default is for photos
            if self.crop != 28:
                raise AdvkitError(f"--data {self.data} trains on whole 28x28 images; pass --crop 28, not {self.crop}")
            if self.channels != 1:
                raise AdvkitError(f"--data {self.data} is grey; pass --channels 1")
        if self.blind and self.arch != "unet":
            raise AdvkitError(f"--blind trains the U-Net with a noise-level map; drop --arch {self.arch}")
        if self.val_split < 0 or (self.val_split and self.val):
            raise AdvkitError("--val-split N (>= 0) holds out training images for validation; pass it or --val, not both")
        if self.arch not in ARCHS:
            raise AdvkitError(f"--arch must be one of {', '.join(ARCHS)}; got {self.arch!r}")
        gan_loss(self.loss)  # a catalog row, or the one-line error listing them
        for name in ("content_weight", "adv_weight", "lr", "d_lr"):
            value = getattr(self, name)
            if value is not None and (value != value or value < 0):
                raise AdvkitError(f"--{name.replace('_', '-')} must be >= 0; got {value}")
        if self.classifier and (self.classifier_weight < 0 or self.adv_weight > 0 or self.blind):
            raise AdvkitError("--classifier trains a fixed-sigma denoiser on content + stability loss: use "
                              "--classifier-weight >= 0, --adv-weight 0 and no --blind")
        if self.content_weight == 0 and self.adv_weight == 0 and not (self.classifier and self.classifier_weight > 0):
            raise AdvkitError("--content-weight and --adv-weight are both 0: nothing to train; set one of them > 0")
        for name in ("crop", "width", "levels", "blocks", "d_width", "d_layers", "grid", "val_images"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(self, name)}")
        if self.arch != "unet" and self.width == 32:
            self.width = {"original": 16, "original-bn": 64}[self.arch]  # the source's width / DCGAN's gf_dim
        if self.lr is None:  # resolved here, so config.json and checkpoints hold the rate used
            self.lr = {"unet": 1e-3, "original": 1e-5, "original-bn": 2e-4}[self.arch]
