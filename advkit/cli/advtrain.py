"""``advkit advtrain``: adversarial training (Goodfellow et al. 2015) and fast FGSM-RS training (Wong et al. 2020).

    advkit advtrain --arch maxout --alpha 0.5 --eps 0.25          # the paper's MNIST experiment (offline: 5k subset)
    advkit advtrain --arch softmax --alpha 1                      # plain training (baseline)
    advkit advtrain --arch cnn --alpha 0 --eps 0.3 --fast         # fast adversarial training, overfitting watched
    advkit fgsm --model runs/advtrain-.../checkpoints/final.pt --dataset mnist --eps 0.1,0.25

Reports clean, FGSM and PGD error and mean confidence on wrong answers before and after training, and writes
``checkpoints/final.pt`` (the most robust weights when fast training overfit catastrophically).
"""

from __future__ import annotations

import click

from advkit.cli.common import compute_options, config_from, options_from, resume_option, start_session
from advkit.train.classifier import ClassifierConfig


@click.command("advtrain")
@options_from(ClassifierConfig)
@compute_options
@resume_option
def command(**options) -> None:
    """Adversarial training (Goodfellow et al. 2015) and fast FGSM-RS training."""
    from rich.console import Console
    from rich.table import Table

    from advkit.train.classifier import ClassifierTrainer

    config = config_from(ClassifierConfig, options)
    with start_session("advtrain", options) as session:
        trainer = ClassifierTrainer(config, session)
        if options.get("resume"):
            trainer.resume(options["resume"])
        before = trainer.report()
        trainer.fit()
        rolled_back_to = trainer.restore_most_robust()
        after = trainer.report()
        final = trainer.save_final(session.run.checkpoints / "final.pt")
    mode = "plain" if config.alpha >= 1 or config.eps == 0 else ("fast FGSM-RS" if config.fast else "adversarial")
    table = Table(title=f"{config.arch}, {mode} training (alpha={config.alpha:g}, eps={config.eps:g}), "
                        f"{trainer.data_source}, {config.report_size} test images")
    for col in ("", "clean error", "FGSM error", "FGSM conf. on wrong", "PGD error"):
        table.add_column(col, justify="right")
    for name, r in (("before", before), ("after", after)):
        table.add_row(name, f"{r['clean_error']:.2%}", f"{r['fgsm_error']:.2%}", f"{r['fgsm_wrong_confidence']:.1%}",
                      f"{r['pgd_error']:.2%}" if "pgd_error" in r else "-")
    Console().print(table)
    monitor = trainer.monitor
    overfit = None
    if monitor is not None:
        overfit = {"detected_at_step": monitor.detected_at, "best_train_pgd_accuracy": monitor.best_accuracy,
                   "best_step": monitor.best_step, "rolled_back_to_step": rolled_back_to}
        if monitor.detected_at is not None:
            session.echo(f"catastrophic overfitting detected at step {monitor.detected_at} (PGD accuracy on a training "
                         f"batch fell >{monitor.drop:.0%} below its best, or FGSM accuracy exceeded it by >{monitor.gap:.0%}); "
                         f"final.pt holds the most robust weights (step {rolled_back_to})")
    session.run.save_json("results.json", {"arch": config.arch, "mode": mode, "alpha": config.alpha, "eps": config.eps,
                                           "data": trainer.data_source, "report_size": config.report_size,
                                           "before": before, "after": after, "catastrophic_overfitting": overfit,
                                           "checkpoint": str(final)})
    session.echo(f"checkpoint: {final} (use it with `advkit fgsm --model {final}`)")
