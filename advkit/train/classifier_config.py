"""``advkit advtrain``'s configuration, readable without torch (fast ``--help``); the trainer is
:mod:`advkit.train.classifier`."""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.train.adversarial_methods import METHODS, NOISE_METHODS
from advkit.errors import AdvkitError
from advkit.models.names import CLASSIFIER_ARCHS as ARCHS
from advkit.train.config import TrainerConfig
from advkit.values import parse_one_eps


@dataclass
class ClassifierConfig(TrainerConfig):
    steps: int = field(default=2000, metadata={"help": "Optimizer steps (50 steps = one epoch of the 5k subset at batch 100)."})
    batch_size: int = field(default=100, metadata={"help": "Batch size."})
    sample_every: int = field(default=500, metadata={"help": "Evaluate clean/FGSM error on --eval-size test images every N steps."})
    checkpoint_every: int = field(default=500, metadata={"help": "Write a checkpoint every N steps."})
    arch: str = field(default="maxout", metadata={"help": "Classifier architecture.", "choices": ARCHS})
    dataset: str = field(default="mnist", metadata={"help": "Training set (train split; the test split is only evaluated).",
                                                    "choices": ("mnist", "fashion-mnist")})
    alpha: float = field(default=0.5, metadata={"help": "Weight of the clean loss in J~ (1 = plain training)."})
    eps: float = field(default=0.25, metadata={"help": "FGSM budget (L-inf, pixels in [0, 1]; 0.25 or 8/255) used for "
                                                       "training.", "parsed": True})
    fast: bool = field(default=False, metadata={"help": "Fast adversarial training: FGSM from a random start (Wong et al. 2020); same as --method fgsm-rs."})
    method: str = field(default="fgsm", metadata={"help": "Adversarial examples to train on: fgsm, fgsm-rs (fast), pgd (Madry et al. 2018) or trades (Zhang et al. 2019); "
                                                          "or Gaussian noise for randomized smoothing: gaussian (Cohen et al. 2019) or consistency (Jeong & Shin 2020).",
                                                  "choices": METHODS})
    sigma: float = field(default=0.25, metadata={"help": "Noise std (pixels in [0, 1]) of --method gaussian / consistency; certify with the same --sigma."})
    noise_copies: int = field(default=2, metadata={"help": "Noisy copies per image (--method consistency; Jeong & Shin: 2)."})
    consistency: float = field(default=10.0, metadata={"help": "Weight lambda of the consistency KL term (--method consistency)."})
    consistency_entropy: float = field(default=0.5, metadata={"help": "Weight eta of the entropy term (--method consistency)."})
    attack_steps: int = field(default=10, metadata={"help": "PGD steps per training example (--method pgd / trades)."})
    attack_step: float = field(default=0.0, metadata={"help": "PGD step size (0: 2.5 eps / attack-steps)."})
    beta: float = field(default=6.0, metadata={"help": "TRADES weight of the KL term (Zhang et al.: 6 on MNIST)."})
    clip: bool = field(default=True, metadata={"help": "Clip training examples to [0, 1] (--no-clip: the source paper's raw eta)."})
    eps_warmup: int = field(default=0, metadata={"help": "Ramp the training eps linearly from 0 over the first N steps."})
    lr_schedule: str = field(default="constant", metadata={"help": "Learning rate: constant, or cosine decay to 0 over --steps.",
                                                           "choices": ("constant", "cosine")})
    weight_average: float = field(default=0.0, metadata={"help": "Decay of an exponential moving average of the weights, evaluated and saved instead (0: off)."})
    augment_shift: int = field(default=0, metadata={"help": "Move each training image by a random offset of up to N pixels per axis (0: off); widens small training sets."})
    train_size: int = field(default=0, metadata={"help": "Train on a seeded random subset of N images (0: the whole split); the rest is the validation split "
                                                           "--data mnist:heldout:N of certify and eval robustness."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})
    units: int = field(default=240, metadata={"help": "Width: maxout units / MLP hidden units per layer."})
    pieces: int = field(default=5, metadata={"help": "Maxout pieces per unit."})
    channels: int = field(default=16, metadata={"help": "Width of --arch cnn: channels of its first conv layer (doubled in the second)."})
    eval_size: int = field(default=1000, metadata={"help": "Test images for the periodic evaluation."})
    overfit_check_every: int = field(default=50, metadata={"help": "Steps between catastrophic-overfitting checks (--fast)."})
    report_size: int = field(default=10000, metadata={"help": "Test images for the before/after report."})
    report_pgd_steps: int = field(default=20, metadata={"help": "PGD steps in the before/after report (0: skip PGD)."})
    report_strong_size: int = field(default=1000, metadata={
        "help": "Test images of the report attacked with the strongest attack (AutoAttack: slow on a CPU)."})
    quick: bool = field(default=False, metadata={
        "help": "The report's strongest attack is APGD-CE (3 restarts) + APGD-T instead of full AutoAttack."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (0 <= self.alpha <= 1):
            raise AdvkitError(f"--alpha must be in [0, 1] (weight of the clean loss); got {self.alpha}")
        self.eps = parse_one_eps(self.eps)
        if self.fast and self.method not in ("fgsm", "fgsm-rs"):
            raise AdvkitError(f"--fast means --method fgsm-rs; it contradicts --method {self.method}: drop one")
        if self.fast:
            self.method = "fgsm-rs"
        self.fast = self.method == "fgsm-rs"  # the alias stays true to the method, for old readers of the config
        if self.attack_steps <= 0 or self.attack_step < 0 or self.beta < 0 or self.eps_warmup < 0:
            raise AdvkitError("--attack-steps must be positive; --attack-step, --beta and --eps-warmup must be >= 0")
        if self.sigma <= 0 or self.noise_copies < 1 or self.consistency < 0 or self.consistency_entropy < 0:
            raise AdvkitError("--sigma and --noise-copies must be positive; --consistency and --consistency-entropy >= 0")
        if not (0 <= self.weight_average < 1):
            raise AdvkitError(f"--weight-average must be in [0, 1) (0: off, e.g. 0.999); got {self.weight_average}")
        if self.lr <= 0 or self.units <= 0 or self.pieces <= 0 or self.channels <= 0 or self.eval_size <= 0 or self.overfit_check_every <= 0 \
                or self.report_size <= 0 or self.report_pgd_steps < 0 or self.train_size < 0 \
                or self.augment_shift < 0:
            raise AdvkitError("--lr, --units, --pieces, --channels, --eval-size, --overfit-check-every and --report-size must be positive; "
                              "--train-size, --report-pgd-steps and --augment-shift must be >= 0")

    @property
    def model_args(self) -> dict:
        """Constructor args of the chosen architecture."""
        return {"maxout": {"units": self.units, "pieces": self.pieces}, "mlp": {"hidden": self.units},
                "cnn": {"channels": self.channels}}.get(self.arch, {})

    @property
    def plain(self) -> bool:
        """No adversarial examples at all (TRADES ignores alpha)."""
        if self.method in NOISE_METHODS:
            return False
        return self.eps == 0 or (self.alpha >= 1 and self.method != "trades")

    def train_eps(self, step: int) -> float:
        """The training budget at ``step`` (0-based): linear warm-up over --eps-warmup steps, then --eps."""
        return self.eps * min(1.0, (step + 1) / self.eps_warmup) if self.eps_warmup else self.eps
