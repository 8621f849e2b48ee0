"""``advkit fgsm``: FGSM adversarial examples (Goodfellow, Shlens & Szegedy 2015).

    advkit fgsm --eps 0.007                          # shipped MNIST CNN + shipped test digits: the panda-style figure
    advkit fgsm --model torchvision:googlenet --eps 0.007   # the paper's figure itself (torchvision weights, if cached)
    advkit fgsm --model runs/advtrain-.../checkpoints/final.pt --image my7.png --target 3
    advkit fgsm --dataset mnist --eps 0.1,0.2,0.25,0.3   # error and confidence vs eps, plus PGD error

    >>> from advkit.commands.fgsm import FGSMConfig, run
    >>> run(FGSMConfig(dataset="mnist", eps="0.1,0.3", n=500))["rows"][1]["fgsm_error"]

The single-image mode also measures, on the first ``--n`` official MNIST test images (or on the given images for
ImageNet models), how many predictions the chosen eps flips and which eps would flip half: 0.007 was the paper's
budget for 224x224x3 inputs, where eps*||w||_1 sums over 150k dimensions; 28x28 digits have 784, so the same eps
flips few of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for
from advkit.values import parse_eps

RUN_DIR = True


@dataclass
class FGSMConfig(RunConfig):
    eps: tuple[float, ...] = field(default=(0.007,), metadata={
        "help": "L-inf budget(s) in [0,1] pixel units (0.007 or 2/255); comma list in dataset mode.", "parsed": True})
    model: str = field(default="default", metadata={
        "help": "'default' (shipped MNIST CNN), torchvision:NAME (an ImageNet classifier: torchvision:googlenet, ...) or a checkpoint."})
    image: str = field(default="", metadata={"help": "Image file to attack (default: the shipped test digits / cat photo)."})
    target: int = field(default=-1, metadata={"help": "Targeted FGSM towards this class (-1: untargeted)."})
    dataset: str = field(default="", metadata={"help": "Dataset mode: attack the test split of mnist or fashion-mnist."})
    n: int = field(default=1000, metadata={
        "help": "Test images attacked in dataset mode (the full test set: 10000); the flip rate of image mode uses at "
                "most 1000."})
    clip: bool = field(default=True, metadata={"help": "Clip adversarial images to [0,1] (--no-clip: the paper's raw eta)."})
    pgd_steps: int = field(default=20, metadata={"help": "PGD steps in dataset mode (0: FGSM only)."})
    pgd_restarts: int = field(default=1, metadata={"help": "PGD random restarts (best iterate kept per sample)."})
    batch_size: int = field(default=500, metadata={"help": "Attack batch size."})
    amp: bool = field(default=False, metadata={"help": "Mixed precision (bf16 autocast) for the attacked model's passes."})

    def __post_init__(self) -> None:
        self.eps = parse_eps(self.eps)
        if self.dataset not in ("", "mnist", "fashion-mnist"):
            raise AdvkitError(f"--dataset must be mnist or fashion-mnist (the test split is attacked); got {self.dataset!r}")
        if self.n <= 0 or self.batch_size <= 0 or self.pgd_steps < 0 or self.pgd_restarts < 1:
            raise AdvkitError("--n and --batch-size must be positive, --pgd-steps >= 0, --pgd-restarts >= 1")


CONFIG = FGSMConfig


def run(config: FGSMConfig, session: Session | None = None, **session_options) -> dict:
    """The panda-style figure on single images, or error and confidence vs eps on a test set (``dataset``)."""
    from advkit.demos.fgsm import dataset_mode, image_mode
    from advkit.models.loader import load_victim

    with session_for("fgsm", config, session, **session_options) as session:
        victim = load_victim(config.model, session.device)
        if victim.note:
            session.warn(victim.note)
        return dataset_mode(victim, config, session) if config.dataset else image_mode(victim, config, session)
