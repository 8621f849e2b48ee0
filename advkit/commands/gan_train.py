"""``advkit gan train``: train a GAN (Algorithm 1 of Goodfellow et al. 2014); defaults are the source's MNIST GAN.

    advkit gan train                                   # the source's MNIST GAN: mlp, ns loss, 10k iterations
    advkit gan train --arch dcgan --loss wgan-gp --dataset fashion-mnist --steps 5000
    advkit gan train --dataset ring --pack 4           # ring of 8 Gaussians with PacGAN packing

    >>> from advkit.commands.gan_train import run
    >>> from advkit.train.gan_config import GANConfig
    >>> run(GANConfig(arch="dcgan", dataset="mnist", steps=2000), out="runs/dcgan")["final"]["domain_fid"]
"""

from __future__ import annotations

from advkit.runtime.session import Session
from advkit.train.gan_config import GANConfig

RUN_DIR = True
TRAINER = True
CONFIG = GANConfig


def run(config: GANConfig, session: Session | None = None, resume: str | None = None, **session_options) -> dict:
    """Train (continuing from ``resume`` when given); returns the final and best figures (results.json)."""
    from advkit.train.gan import GANTrainer

    with GANTrainer.opened("gan-train", config, session, resume, **session_options) as trainer:
        trainer.fit()
        results = trainer.results()
        results["changed_on_resume"] = trainer.changed_on_resume
        best = trainer.run.checkpoints / "best.pt"
        results["run"], results["best_checkpoint"] = str(trainer.run.path), str(best) if best.exists() else None
        return results
