"""``advkit fgsm``: FGSM adversarial examples (Goodfellow, Shlens & Szegedy 2015).

    advkit fgsm --eps 0.007                          # shipped MNIST CNN + shipped test digits: the panda-style figure
    advkit fgsm --model googlenet --eps 0.007        # the paper's figure itself (torchvision weights, if cached)
    advkit fgsm --model runs/advtrain-.../checkpoints/final.pt --image my7.png --target 3
    advkit fgsm --dataset mnist --eps 0.1,0.2,0.25,0.3   # error and confidence vs eps, plus PGD error

The single-image mode also measures, on the first ``--n`` official MNIST test images (or on the given
images for ImageNet models), how many predictions the chosen eps flips and which eps would flip half:
0.007 was the paper's budget for 224x224x3 inputs, where eps*||w||_1 sums over 150k dimensions; 28x28
digits have 784, so the same eps flips few of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from advkit.cli.common import compute_options, config_from, options_from, start_session
from advkit.errors import AdvkitError

DEFAULT_MODEL = "default"


def parse_eps_list(text: str) -> list[float]:
    """``--eps 0.1,0.25`` -> [0.1, 0.25]: L-inf budgets of [0, 1] images (NaN and out-of-range values refused)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise AdvkitError(f"--eps must be numbers separated by commas, e.g. 0.1,0.25; got {text!r}") from None
    if not values or any(not (0 <= v <= 1) for v in values):
        raise AdvkitError(f"--eps values must be in [0, 1] (images are in [0, 1]); got {text!r}")
    return values


@dataclass
class FGSMConfig:
    eps: str = field(default="0.007", metadata={"help": "L-inf budget(s) in [0,1] pixel units; comma list in dataset mode."})
    model: str = field(default=DEFAULT_MODEL, metadata={
        "help": "'default' (shipped MNIST CNN), a torchvision ImageNet classifier (googlenet, resnet50, ...) or a checkpoint."})
    image: str = field(default="", metadata={"help": "Image file to attack (default: the shipped test digits / cat photo)."})
    target: int = field(default=-1, metadata={"help": "Targeted FGSM towards this class (-1: untargeted)."})
    dataset: str = field(default="", metadata={"help": "Dataset mode: attack the test split of mnist or fashion-mnist."})
    n: int = field(default=10000, metadata={"help": "Test images used (dataset mode; flip-rate measurement)."})
    clip: bool = field(default=True, metadata={"help": "Clip adversarial images to [0,1] (--no-clip: the paper's raw eta)."})
    pgd_steps: int = field(default=20, metadata={"help": "PGD steps in dataset mode (0: FGSM only)."})
    pgd_restarts: int = field(default=1, metadata={"help": "PGD random restarts (best iterate kept per sample)."})
    batch_size: int = field(default=500, metadata={"help": "Attack batch size."})
    amp: bool = field(default=False, metadata={"help": "Mixed precision (bf16 autocast) for the attacked model's passes."})

    def eps_list(self) -> list[float]:
        return parse_eps_list(self.eps)

    def __post_init__(self) -> None:
        self.eps_list()
        if self.dataset not in ("", "mnist", "fashion-mnist"):
            raise AdvkitError(f"--dataset must be mnist or fashion-mnist (the test split is attacked); got {self.dataset!r}")
        if self.n <= 0 or self.batch_size <= 0 or self.pgd_steps < 0 or self.pgd_restarts < 1:
            raise AdvkitError("--n and --batch-size must be positive, --pgd-steps >= 0, --pgd-restarts >= 1")


@click.command("fgsm")
@options_from(FGSMConfig)
@compute_options
def command(**options) -> None:
    """FGSM adversarial examples: the panda figure, or error vs eps on a dataset."""
    config = config_from(FGSMConfig, options)
    with start_session("fgsm", options) as session:
        from advkit.adversarial.fgsm_demo import dataset_mode, image_mode, load_victim

        victim = load_victim(config.model, session.device)
        if config.dataset:
            results = dataset_mode(victim, config, session)
        else:
            results = image_mode(victim, config, session)
        session.run.save_json("results.json", results)
        session.echo(f"run directory: {session.run.path} (results.json, images/)")
