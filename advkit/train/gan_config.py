"""``advkit gan train``'s configuration: GAN variants are config values, not subclasses.

``loss`` (minimax | ns | wgan | wgan-gp | hinge, :mod:`advkit.gan.losses`), ``clip`` (WGAN), ``gp_weight``
(WGAN-GP), ``spectral_norm``, ``num_classes`` (CGAN), ``pack`` (PacGAN), ``ema``, ``diffaugment``. Options whose
default depends on others (``lr``, ``beta1``, ``beta2``, ``d_steps``, ``layers``, ``d_norm``) default to None
("auto") and are resolved in ``__post_init__``, so a config always holds the values a run uses.

    >>> GANConfig(arch="dcgan", loss="wgan-gp").d_steps, GANConfig(arch="dcgan", loss="wgan-gp").lr
    (5, 0.0001)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.gan.loss_catalog import gan_loss, loss_names
from advkit.gan.options import parse_policy
from advkit.train.config import TrainerConfig

# = advkit.data.stacked_mnist.PACGAN_TRIPLES (a test ties them), written out so this table imports without torch
STACKED_TRIPLES = 25_600

ARCHS = ("mlp", "dcgan")
IMAGE_DATASETS = ("mnist", "fashion-mnist", "stl10", "stacked-mnist", "fake")
TOY_DATASETS = ("ring", "gaussian1d")


@dataclass
class GANConfig(TrainerConfig):
    """``advkit gan train`` options; defaults are the source's MNIST GAN (mlp, ns, 10k iterations, batch 128).

        >>> import advkit
        >>> config = advkit.GANConfig(arch="dcgan", loss="wgan-gp", dataset="fake", steps=2)
        >>> config.d_steps, config.lr                       # resolved per loss
        (5, 0.0001)
    """
    steps: int = field(default=10_000, metadata={"help": "Generator updates (iterations of Algorithm 1)."})
    arch: str = field(default="mlp", metadata={"help": "mlp (the source's GAN) or dcgan.", "choices": ARCHS})
    loss: str = field(default="ns", metadata={"help": "GAN objective (see advkit/gan/losses.py).", "choices": loss_names})
    dataset: str = field(default="mnist", metadata={
        "help": "mnist | fashion-mnist | stl10 | stacked-mnist | fake | ring | gaussian1d | an image folder path."})
    data_source: str = field(default="auto", metadata={"help": "MNIST files: auto | offline (5k subset) | full.",
                                                       "choices": ("auto", "offline", "full")})
    stacked_triples: int = field(default=STACKED_TRIPLES, metadata={
        "help": "stacked-mnist: training triples drawn from the digits (25,600 as PacGAN; more triples of the same "
                "digits make the triples harder for D to memorize)."})
    image_size: int = field(default=0, metadata={"help": "Image size: 28, 32 or 64 (0 = the data's own, 64 for "
                                                         "stl10 and folders)."})
    z_dim: int = field(default=100, metadata={"help": "Noise dimension (z ~ U[-1, 1])."})
    hidden: int = field(default=128, metadata={"help": "mlp: hidden units per layer."})
    layers: int | None = field(default=None, metadata={"help": "mlp: hidden layers (default: 1 for images as the source, 2 for toy data)."})
    base_channels: int = field(default=64, metadata={"help": "dcgan: channels of D's first / G's last conv layer."})
    num_classes: int = field(default=0, metadata={"help": "Conditional GAN with N classes (0 = unconditional)."})
    spectral_norm: bool = field(default=False, metadata={"help": "Spectral normalization on every D layer."})
    d_norm: str = field(default="auto", metadata={"help": "dcgan D normalization (auto: batch; layer for wgan-gp; "
                                                          "none with spectral norm).",
                                                  "choices": ("auto", "batch", "layer", "none")})
    pack: int = field(default=1, metadata={"help": "PacGAN: D judges this many samples jointly (1 = off)."})
    diffaugment: str = field(default="", metadata={
        "help": "DiffAugment policy for small datasets: a comma list of color, translation, cutout applied to "
                "everything D sees, real and fake (Zhao et al. 2020; '' = off)."})
    d_steps: int | None = field(default=None, metadata={"help": "D updates per G update (default: 5 for wgan/wgan-gp, else 1)."})
    g_steps: int = field(default=1, metadata={"help": "G updates per iteration (carpedm20's DCGAN used 2)."})
    lr: float | None = field(default=None, metadata={"help": "Learning rate (default: Adam 1e-3 mlp, 2e-4 dcgan, "
                                                            "1e-4 wgan-gp; RMSProp 5e-5 wgan)."})
    d_lr: float | None = field(default=None, metadata={
        "help": "D's learning rate (TTUR, Heusel et al. 2017; default: --lr)."})
    lr_decay: str = field(default="none", metadata={
        "help": "Learning-rate schedule: none, or linear decay to 0 at the last step.", "choices": ("none", "linear")})
    beta1: float | None = field(default=None, metadata={"help": "Adam beta1 (default: 0.9 mlp, 0.5 dcgan/wgan-gp)."})
    beta2: float | None = field(default=None, metadata={"help": "Adam beta2 (default: 0.999; 0.9 for wgan-gp)."})
    clip: float = field(default=0.01, metadata={"help": "wgan: clip D's weights to [-clip, clip]."})
    gp_weight: float = field(default=10.0, metadata={"help": "wgan-gp: gradient-penalty weight lambda."})
    share_fake: bool = field(default=False, metadata={
        "help": "Reuse the D phase's last fake batch in the first G step (one G forward fewer per step). Off: fresh "
                "noise for the G step, as Algorithm 1 and the source (bench/bench_gan.py measures both)."})
    prior: str = field(default="uniform", metadata={
        "help": "G's noise prior: uniform U[-1, 1] (the source, DCGAN) or gaussian N(0, I).",
        "choices": ("uniform", "gaussian")})
    ema: float = field(default=0.0, metadata={"help": "EMA decay of G's weights for samples/eval (0 = off; e.g. 0.999), warmed up as min(ema, (1+n)/(10+n)) after n G updates."})
    bf16: bool = field(default=True, metadata={"help": "bf16 autocast on CUDA (on the CPU see --cpu-bf16)."})
    cpu_bf16: bool = field(default=False, metadata={"help": "bf16 autocast on the CPU too, where it is native (AVX512-BF16/AMX; about 2x faster steps here, bench/bench_dcgan.py); float32 with a warning where emulated."})
    compile: bool = field(default=False, metadata={
        "help": "torch.compile G and D (the first steps compile for a while; wgan-gp compiles G only: its "
                "gradient penalty differentiates D twice, which compiled graphs do not support)."})
    grid: int = field(default=16, metadata={"help": "Samples in each fixed-noise grid (the source: 16 = 4x4)."})
    eval_samples: int = field(default=2000, metadata={"help": "Samples per periodic evaluation (domain FID/IS, modes)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.arch not in ARCHS:
            raise AdvkitError(f"--arch must be one of {', '.join(ARCHS)}; got {self.arch!r}")
        gan_loss(self.loss)  # a catalog row, or the one-line error listing them
        for name in ("z_dim", "hidden", "base_channels", "g_steps", "grid", "eval_samples", "pack", "stacked_triples"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(self, name)}")
        for name in ("d_steps", "layers", "lr", "d_lr"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be positive; got {getattr(self, name)}")
        for name in ("num_classes", "image_size", "clip", "gp_weight"):
            if getattr(self, name) < 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be >= 0; got {getattr(self, name)}")
        if not 0 <= self.ema < 1:
            raise AdvkitError(f"--ema must be in [0, 1) (0 = off, 0.999 typical); got {self.ema}")
        if self.batch_size % self.pack:
            raise AdvkitError(f"--batch-size {self.batch_size} must be a multiple of --pack {self.pack}")
        if self.dataset != "stacked-mnist" and self.stacked_triples != STACKED_TRIPLES:
            raise AdvkitError(f"--stacked-triples sets Stacked MNIST's training set; --dataset {self.dataset} has no "
                              "triples: drop it or use --dataset stacked-mnist")
        if self.dataset in TOY_DATASETS and self.arch != "mlp":
            raise AdvkitError(f"--dataset {self.dataset} is vector data: use --arch mlp")
        self.diffaugment = ",".join(parse_policy(self.diffaugment))  # checked and canonical before any data loads
        if self.dataset in TOY_DATASETS and self.diffaugment:
            raise AdvkitError(f"--dataset {self.dataset} is vector data: --diffaugment augments images; drop it")
        if self.dataset in TOY_DATASETS and self.num_classes:
            raise AdvkitError(f"--dataset {self.dataset} has no labels: drop --num-classes")
        # Resolve the "per loss / per arch" defaults here, in the open, so config.json and checkpoints hold the
        # values used.
        wgan = gan_loss(self.loss).wasserstein
        if self.d_steps is None:
            self.d_steps = 5 if wgan else 1
        if self.layers is None:
            self.layers = 2 if self.dataset in TOY_DATASETS else 1
        if self.d_norm == "auto":
            self.d_norm = "none" if self.spectral_norm else "layer" if self.loss == "wgan-gp" else "batch"
        if self.loss == "wgan-gp" and self.d_norm == "batch":
            raise AdvkitError("wgan-gp penalizes per-sample gradients, which batch norm in D mixes: use --d-norm layer or none")
        default_lr = {"wgan": 5e-5, "wgan-gp": 1e-4}.get(self.loss, 1e-3 if self.arch == "mlp" else 2e-4)
        if self.lr is None:
            self.lr = default_lr
        if self.d_lr is None:
            self.d_lr = self.lr
        if self.beta1 is None:
            self.beta1 = 0.9 if self.arch == "mlp" and self.loss != "wgan-gp" else 0.5
        if self.beta2 is None:
            self.beta2 = 0.9 if self.loss == "wgan-gp" else 0.999


def learning_rate(base: float, step: int, config: GANConfig) -> float:
    """The learning rate at ``step`` (0-based): a function of the step alone, so resuming needs no scheduler state."""
    return base * (1 - step / config.steps) if config.lr_decay == "linear" else base
