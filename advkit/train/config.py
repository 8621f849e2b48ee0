"""The options every trainer shares (the shared part of the defaults table), readable without torch (fast
``--help``); the loop that uses them is :class:`advkit.train.base.Trainer`."""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig

# Options that only say how long to run, how often to report, and where and in which precision to compute: a
# resumed run may change them (train on to more --steps, or move from the CPU, fp32, to a GPU, where bf16 is the
# default); any other difference from the stored config is refused.
RUN_LENGTH_OPTIONS = ("steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "eval_samples",
                      "device", "deterministic", "compile", "bf16", "cpu_bf16")

# Options renamed since runs were stored: {old field: (new field, value map)}. Recipes, --resume and stored
# checkpoints that still say the old name keep working (``no-clip = true`` is ``clip = false``).
RENAMED_OPTIONS = {"no_clip": ("clip", lambda value: not value)}


def upgrade_options(options: dict) -> dict:
    """``options`` (field or option names: ``no_clip`` / ``no-clip``) with renamed options under their new names."""
    upgraded = dict(options)
    for key in list(options):
        old = key.replace("-", "_")
        if old in RENAMED_OPTIONS:
            new, convert = RENAMED_OPTIONS[old]
            value = upgraded.pop(key)
            upgraded.setdefault(new if key == old else new.replace("_", "-"), convert(value))
    return upgraded


@dataclass
class TrainerConfig(RunConfig):
    """Options every trainer shares (the shared part of the defaults table)."""
    steps: int = field(default=1000, metadata={"help": "Optimizer steps (generator steps for GANs)."})
    batch_size: int = field(default=128, metadata={"help": "Batch size."})
    log_every: int = field(default=50, metadata={"help": "Log metrics every N steps."})
    sample_every: int = field(default=1000, metadata={"help": "Write a sample grid / evaluate every N steps."})
    checkpoint_every: int = field(default=1000, metadata={"help": "Write a checkpoint every N steps."})
    keep_checkpoints: int = field(default=3, metadata={"help": "Keep the newest N step checkpoints."})

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise AdvkitError(f"--{name.replace('_', '-')} must be a positive integer; got {value}")
