"""``advkit gan sample``: N samples of a trained generator in one grid (images/samples.png).

    advkit gan sample --ckpt runs/gan-train-.../checkpoints/best.pt --n 64 --label 3

    >>> from advkit.commands.gan_sample import SampleConfig, run
    >>> run(SampleConfig(ckpt="runs/gan1", n=64))["grid"]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for

RUN_DIR = True


@dataclass
class SampleConfig(RunConfig):
    ckpt: str = field(default="", metadata={"help": "Checkpoint file or run directory.", "required": True, "exists": True})
    n: int = field(default=64, metadata={"help": "Number of samples."})
    label: int | None = field(default=None, metadata={"help": "Class to draw (conditional generators only)."})
    truncation: float | None = field(default=None, metadata={
        "help": "Truncation trick (Brock et al. 2019): redraw |z_i| above this (generators trained with --prior "
                "gaussian)."})

    def __post_init__(self) -> None:
        if not 1 <= self.n <= 100_000:
            raise AdvkitError(f"--n must be in [1, 100000]; got {self.n}")


CONFIG = SampleConfig


def run(config: SampleConfig, session: Session | None = None, **session_options) -> dict:
    import torch

    from advkit.runtime.grids import save_grid
    from advkit.gan.sampling import cycled_labels, generate, load_generator

    with session_for("gan-sample", config, session, **session_options) as session:
        G, payload = load_generator(config.ckpt, session.device, images=True)
        images = generate(G, config.n, torch.Generator().manual_seed(config.seed),
                          cycled_labels(G, config.n, config.label), truncation=config.truncation)
        path = session.run.images / "samples.png"
        save_grid(images, path, nrow=max(1, int(math.sqrt(config.n))))
        session.echo(f"{config.n} samples from step {payload['step']} -> {path}")
        return {"ckpt": str(config.ckpt), "step": payload["step"], "n": config.n, "label": config.label,
                "grid": str(path)}
