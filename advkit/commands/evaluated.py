"""What an evaluation runs on, shared by ``eval robustness`` and ``certify``: the model, the data, which points
(``--n``, ``--subset``) and the normalisation the model expects. One set of fields, one help text, one check.

    >>> @dataclass
    ... class MyEvalConfig(EvaluatedConfig):     # --model, --data, --n, --subset, --mean, --std, then its own
    ...     budget: float = 0.1
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig


def channel_floats(text: str, option: str) -> tuple[float, ...] | None:
    """``"0.5,0.5,0.5"`` -> ``(0.5, 0.5, 0.5)``; empty -> None."""
    if not text:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise AdvkitError(f"{option} takes numbers separated by commas (one per channel); got {text!r}") from None


@dataclass
class EvaluatedConfig(RunConfig):
    model: str = field(default="default", metadata={
        "help": "default (the shipped MNIST CNN), an advkit checkpoint, a TorchScript file, torchvision:NAME, "
                "robustbench:[DATASET/THREAT/]NAME (from $ADVKIT_DATA/robustbench) or package.module:callable."})
    data: str = field(default="mnist", metadata={
        "help": "mnist | fashion-mnist | cifar10 | cifar100 (test split) | mnist:heldout:N (the training images "
                "advtrain --train-size N left out: validation) | imagenet:PATH (val folder; resize 256, "
                "crop 224) | an ImageFolder folder | a .pt/.npz file with x and y."})
    n: int = field(default=1000, metadata={"help": "Points evaluated (0: all), chosen by --subset."})
    subset: str = field(default="random", metadata={
        "help": "Which --n points: random (torch.randperm seeded by --seed) | first (RobustBench's protocol) | "
                "robustbench (CIFAR: the first n; imagenet:PATH: RobustBench's fixed 5,000-image list) | a list "
                "file of wnid/filename lines (imagenet:PATH)."})
    mean: str = field(default="", metadata={"help": "Per-channel mean the model expects (wraps it in Normalized)."})
    std: str = field(default="", metadata={"help": "Per-channel std the model expects (with --mean)."})

    def __post_init__(self) -> None:
        if self.n < 0:
            raise AdvkitError(f"--n must be >= 0 (0: every point); got {self.n}")
        self.normalization()

    def normalization(self) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
        """(mean, std) as numbers, or None where not given."""
        return channel_floats(self.mean, "--mean"), channel_floats(self.std, "--std")
