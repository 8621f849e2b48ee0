"""``advkit defense train-hgd``'s configuration, readable without torch (fast ``--help``); the trainer is
:mod:`advkit.train.hgd`, the purifier :mod:`advkit.defenses.hgd`."""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.defenses.options import GUIDES  # LGD, FGD, CGD
from advkit.errors import AdvkitError
from advkit.train.config import TrainerConfig
from advkit.values import parse_one_eps

TRAINING_ATTACKS = ("fgsm", "pgd")


@dataclass
class HGDConfig(TrainerConfig):
    """``advkit defense train-hgd`` options; the defaults train HGD (LGD) in front of the shipped MNIST CNN."""
    steps: int = field(default=1500, metadata={"help": "Denoiser updates (Adam, cosine decay)."})
    batch_size: int = field(default=32, metadata={"help": "Adversarial training examples per step."})
    sample_every: int = field(default=250, metadata={"help": "Validate (guided loss, defended accuracy) and write a "
                                                             "clean | adversarial | denoised grid every N steps."})
    checkpoint_every: int = field(default=500, metadata={"help": "Write a checkpoint every N steps."})
    classifier: str = field(default="default", metadata={
        "help": "The fixed classifier to guard: default (the shipped MNIST CNN), an advkit checkpoint, or what "
                "eval robustness --model takes."})
    dataset: str = field(default="mnist", metadata={
        "help": "Training images (train split; --val-size of them held out for model choice, never the test set).",
        "choices": ("mnist", "fashion-mnist")})
    guide: str = field(default="logits", metadata={
        "help": "What the loss compares: logits (LGD, the paper's best), features (FGD: the last hidden layer) or "
                "labels (CGD: cross-entropy with the true class).", "choices": GUIDES})
    attacks: str = field(default="fgsm,pgd", metadata={
        "help": "Attacks on the classifier alone that make the training examples (comma list of fgsm, pgd)."})
    eps_min: float = field(default=0.0, metadata={"help": "Smallest training budget (L-inf, pixels in [0, 1]; 0.1 or 8/255).",
                                                  "parsed": True})
    eps_max: float = field(default=0.3, metadata={"help": "Largest training budget; each chunk of --chunk images "
                                                          "gets an eps uniform in [--eps-min, --eps-max].", "parsed": True})
    attack_steps: int = field(default=10, metadata={"help": "PGD steps (step 2.5 eps / steps, random start)."})
    copies: int = field(default=2, metadata={"help": "Adversarial versions of each training image (the paper also "
                                                     "trains on a fixed set of adversarial images)."})
    chunk: int = field(default=100, metadata={"help": "Images per (attack, eps) draw when the set is made."})
    width: int = field(default=16, metadata={"help": "Denoiser U-Net channels at full resolution."})
    levels: int = field(default=2, metadata={"help": "U-Net stride-2 levels (2: 28 -> 14 -> 7)."})
    blocks: int = field(default=1, metadata={"help": "U-Net residual blocks per scale and side."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate (cosine decay to 0 over --steps)."})
    train_size: int = field(default=0, metadata={"help": "Train on N random images of the split's training part "
                                                         "(0: all of it)."})
    val_size: int = field(default=500, metadata={"help": "Training images held out to choose the checkpoint "
                                                         "(best.pt: the lowest validation guided loss)."})
    report_n: int = field(default=200, metadata={"help": "Test points of the final `eval defense` run on best.pt "
                                                         "(0: none)."})
    report_eps: float = field(default=0.3, metadata={"help": "L-inf budget of the final evaluation.", "parsed": True})
    report_pgd_steps: int = field(default=20, metadata={"help": "Steps of its PGD attacks (oblivious, white-box, BPDA)."})
    report_autoattack: bool = field(default=True, metadata={"help": "Run AutoAttack through HGD in the evaluation."})
    report_aa_iter: int = field(default=20, metadata={"help": "The evaluation's AutoAttack APGD / FAB iterations."})
    report_aa_queries: int = field(default=500, metadata={"help": "The evaluation's AutoAttack Square queries."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.guide not in GUIDES:
            raise AdvkitError(f"--guide must be one of {', '.join(GUIDES)}; got {self.guide!r}")
        names = [a.strip() for a in self.attacks.split(",") if a.strip()]
        if not names or set(names) - set(TRAINING_ATTACKS):
            raise AdvkitError(f"--attacks must be a comma list of {', '.join(TRAINING_ATTACKS)}; got {self.attacks!r}")
        self.attacks = ",".join(dict.fromkeys(names))
        self.eps_min = parse_one_eps(self.eps_min, option="--eps-min")
        self.eps_max = parse_one_eps(self.eps_max, option="--eps-max")
        self.report_eps = parse_one_eps(self.report_eps, option="--report-eps")
        if not self.eps_min <= self.eps_max or not self.eps_max > 0:
            raise AdvkitError(f"need 0 <= --eps-min <= --eps-max <= 1 and --eps-max > 0; got {self.eps_min}, "
                              f"{self.eps_max}")
        if self.report_eps == 0:
            raise AdvkitError("--report-eps must be > 0: the defence is evaluated under attack (e.g. 0.3 or 8/255)")
        positive = ("attack_steps", "copies", "chunk", "width", "levels", "blocks", "val_size", "report_pgd_steps",
                    "report_aa_iter", "report_aa_queries")
        bad = [f"--{name.replace('_', '-')}" for name in positive if getattr(self, name) < 1]
        if bad or self.report_n < 0 or self.train_size < 0 or not self.lr > 0:
            raise AdvkitError(f"{', '.join(bad) or '--report-n, --train-size (>= 0) or --lr (> 0)'} must be positive")

    @property
    def attack_names(self) -> list[str]:
        return self.attacks.split(",")
