"""``advkit gan toy1d``'s configuration, readable without torch (fast ``--help``); the demo is
:mod:`advkit.gan.toy1d`."""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig


@dataclass
class Toy1DConfig(RunConfig):
    steps: int = field(default=3000, metadata={"help": "Training iterations (one D and one G update each)."})
    batch_size: int = field(default=256, metadata={"help": "Batch size."})
    d_steps: int = field(default=1, metadata={"help": "D updates per G update (k of Algorithm 1)."})
    loss: str = field(default="ns", metadata={"help": "minimax (the paper's) or ns.", "choices": ("minimax", "ns")})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate (decays linearly to 0)."})
    hidden: int = field(default=32, metadata={"help": "Hidden units of G and D (two hidden layers each)."})
    frames: int = field(default=40, metadata={"help": "Frames of the animated GIF."})
    data_mean: float = field(default=4.0, metadata={"help": "Mean of the data Gaussian."})
    data_std: float = field(default=0.5, metadata={"help": "Std of the data Gaussian."})

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "hidden", "frames", "d_steps"):
            if getattr(self, name) <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(self, name)}")
        if not (self.lr > 0 and self.data_std > 0):
            raise AdvkitError("--lr and --data-std must be > 0")
