"""``advkit advtrain``: adversarial training (Goodfellow et al. 2015) and fast FGSM-RS training (Wong et al. 2020).

    advkit advtrain --arch maxout --alpha 0.5 --eps 0.25          # the paper's MNIST experiment (offline: 5k subset)
    advkit advtrain --arch softmax --alpha 1                      # plain training (baseline)
    advkit advtrain --arch cnn --alpha 0 --eps 0.3 --fast         # fast adversarial training, overfitting watched

    >>> from advkit.commands.advtrain import run
    >>> from advkit.train.classifier_config import ClassifierConfig
    >>> run(ClassifierConfig(arch="softmax", steps=200), out="runs/softmax")["after"]["fgsm_error"]

Reports clean, FGSM and PGD error and mean confidence on wrong answers before and after training, and writes
``checkpoints/final.pt`` (the most robust weights when fast training overfit catastrophically).
"""

from __future__ import annotations

from advkit.train.adversarial_methods import NOISE_METHODS
from advkit.runtime.session import Session
from advkit.train.classifier_config import ClassifierConfig

RUN_DIR = True
TRAINER = True
CONFIG = ClassifierConfig


def run(config: ClassifierConfig, session: Session | None = None, resume: str | None = None, **session_options) -> dict:
    """Train (continuing from ``resume`` when given) and report before and after; returns the report."""
    from advkit.train.classifier import ClassifierTrainer

    with ClassifierTrainer.opened("advtrain", config, session, resume, **session_options) as trainer:
        session = trainer.session
        before = trainer.report(label="before")
        trainer.fit()
        rolled_back_to = trainer.restore_most_robust()
        after = trainer.report(label="after")
        final = trainer.save_final(session.run.checkpoints / "final.pt")
        mode = config.method if config.method in NOISE_METHODS else "plain" if config.alpha >= 1 or config.eps == 0 \
            else ("fast FGSM-RS" if config.fast else "adversarial")
        monitor, overfit = trainer.monitor, None
        if monitor is not None:
            overfit = {"detected_at_step": monitor.detected_at, "best_train_pgd_accuracy": monitor.best_accuracy,
                       "best_step": monitor.best_step, "rolled_back_to_step": rolled_back_to}
            if monitor.detected_at is not None:
                session.warn(f"catastrophic overfitting detected at step {monitor.detected_at} (PGD accuracy on a "
                             f"training batch fell >{monitor.drop:.0%} below its best, or FGSM accuracy exceeded it by "
                             f">{monitor.gap:.0%}); final.pt holds the most robust weights (step {rolled_back_to})")
        session.echo(f"checkpoint: {final} (use it with `advkit fgsm --model {final}`)")
        return {"arch": config.arch, "mode": mode, "alpha": config.alpha, "eps": config.eps,
                "data": trainer.data_source, "report_size": config.report_size, "before": before, "after": after,
                "catastrophic_overfitting": overfit, "checkpoint": str(final)}
