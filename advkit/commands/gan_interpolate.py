"""``advkit gan interpolate``: latent walks from one z to another (Radford et al. 2015, sec. 6.1): a straight
line for the uniform prior (the cube [-1, 1]^d is convex, so every point is a valid input), slerp along the
sphere for a gaussian prior (White 2016; :mod:`advkit.gan.latent`).

    advkit gan interpolate --ckpt runs/gan-train-... --rows 8 --steps 10

    >>> from advkit.commands.gan_interpolate import InterpolateConfig, run
    >>> run(InterpolateConfig(ckpt="runs/gan1"))["grid"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for

RUN_DIR = True


@dataclass
class InterpolateConfig(RunConfig):
    ckpt: str = field(default="", metadata={"help": "Checkpoint file or run directory.", "required": True, "exists": True})
    rows: int = field(default=8, metadata={"help": "Latent walks (rows)."})
    steps: int = field(default=10, metadata={"help": "Points per walk (columns)."})
    label: int | None = field(default=None, metadata={"help": "Class for every row (conditional generators only)."})

    def __post_init__(self) -> None:
        if not 1 <= self.rows <= 64 or not 2 <= self.steps <= 64:
            raise AdvkitError(f"--rows must be in [1, 64] and --steps in [2, 64]; got {self.rows} and {self.steps}")


CONFIG = InterpolateConfig


def run(config: InterpolateConfig, session: Session | None = None, **session_options) -> dict:
    import torch

    from advkit.runtime.grids import save_grid
    from advkit.gan.latent import interpolate
    from advkit.gan.sampling import cycled_labels, load_generator

    with session_for("gan-interpolate", config, session, **session_options) as session:
        G, payload = load_generator(config.ckpt, session.device, images=True)
        rows, n_steps = config.rows, config.steps
        g = torch.Generator().manual_seed(config.seed)
        start, end = G.noise(rows, g), G.noise(rows, g)
        prior = getattr(G.config, "prior", "uniform")
        z = interpolate(start, end, n_steps, prior).transpose(0, 1).reshape(rows * n_steps, -1)  # row by row
        labels = cycled_labels(G, rows, config.label)
        labels = labels.repeat_interleave(n_steps) if labels is not None else None
        with torch.no_grad():
            images = G.images(z, labels).cpu()
        path = session.run.images / "interpolation.png"
        save_grid(images, path, nrow=n_steps)
        session.echo(f"{rows} latent walks of {n_steps} points -> {path}")
        return {"ckpt": str(config.ckpt), "step": payload["step"], "rows": rows, "steps": n_steps, "grid": str(path)}
