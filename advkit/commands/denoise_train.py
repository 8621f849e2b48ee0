"""``advkit denoise train``: train a denoiser: L1 content + adversarial loss (weights ``content_weight`` /
``adv_weight``), validated on a folder carved from the training images' source, never a test set.

    advkit denoise train --noise-std 50 --data CBSD432 --val VAL_DIR
    advkit denoise train --arch original --content-weight 0 --no-d-conditional --no-d-patch --noise-mode compat

    >>> from advkit.commands.denoise_train import run
    >>> from advkit.train.denoise_config import DenoiseConfig
    >>> run(DenoiseConfig(data="my_photos/", steps=2000), out="runs/denoiser")["val_psnr"]
"""

from __future__ import annotations

import time

from advkit.runtime.session import Session
from advkit.train.denoise_config import DenoiseConfig

RUN_DIR = True
TRAINER = True
CONFIG = DenoiseConfig


def run(config: DenoiseConfig, session: Session | None = None, resume: str | None = None, **session_options) -> dict:
    from advkit.train.denoise import DenoiseTrainer
    from advkit.train.denoise_stability import StabilityDenoiseTrainer

    start = time.perf_counter()
    trainer_class = StabilityDenoiseTrainer if config.classifier else DenoiseTrainer
    with trainer_class.opened("denoise-train", config, session, resume, **session_options) as trainer:
        figures = trainer.fit()
        return {"steps": config.steps, "arch": config.arch, "noise_std": config.noise_std,
                "content_weight": config.content_weight, "adv_weight": config.adv_weight,
                "device": str(trainer.device), "wall_s": time.perf_counter() - start,
                **{k: float(v) for k, v in figures.items()}, "run": str(trainer.run.path),
                "changed_on_resume": trainer.changed_on_resume}
