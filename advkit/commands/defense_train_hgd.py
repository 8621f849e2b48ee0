"""``advkit defense train-hgd``: train the high-level representation guided denoiser (Liao et al. 2018) in front of
a fixed classifier, then evaluate the defence as ``advkit eval defense`` does (oblivious, white-box, BPDA,
AutoAttack) on ``--report-n`` test points with the checkpoint chosen on held-out training images.

    advkit defense train-hgd --classifier default --guide logits --steps 1500
    advkit defense train-hgd --guide features --eps-max 0.3 --attacks fgsm,pgd --report-n 0
    advkit eval defense --classifier default --purifier hgd:RUN/checkpoints/best.pt --data mnist --eps 0.3

    >>> from advkit.commands.defense_train_hgd import run
    >>> from advkit.train.hgd_config import HGDConfig
    >>> run(HGDConfig(steps=1500), out="runs/hgd")["defense"]["accuracy"]["white-box"]

Writes ``checkpoints/best.pt`` (the lowest validation guided loss; what ``--purifier hgd:CKPT`` takes), and, with
``--report-n``, ``defense_accuracy.png`` and ``defense.md``.
"""

from __future__ import annotations

import time

from advkit.runtime.session import Session
from advkit.train.hgd_config import HGDConfig

RUN_DIR = True
TRAINER = True
CONFIG = HGDConfig


def run(config: HGDConfig, session: Session | None = None, resume: str | None = None, **session_options) -> dict:
    from advkit.train.hgd import HGDTrainer

    start = time.perf_counter()
    with HGDTrainer.opened("defense-train-hgd", config, session, resume, **session_options) as trainer:
        session = trainer.session
        figures = trainer.fit()
        best = session.run.checkpoints / "best.pt"
        if not best.exists():  # a resume past the last validation: the final weights stand in
            trainer.save(best)
        results = {"classifier": config.classifier, "guide": config.guide, "attacks": config.attacks,
                   "eps_max": config.eps_max, "steps": config.steps,
                   "data": trainer.data_source + (f"; evaluated on {config.report_n} seeded random {config.dataset} "
                                                  "test images" if config.report_n else ""),
                   "best_step": trainer.best_step, "best_val_loss": trainer.best_loss,
                   **{k: float(v) for k, v in figures.items()}, "train_s": time.perf_counter() - start,
                   "checkpoint": str(best), "run": str(session.run.path),
                   "changed_on_resume": trainer.changed_on_resume}
        results["defense"] = evaluate(config, str(best), session) if config.report_n else None
        session.echo(f"checkpoint: {best} (evaluate it with `advkit eval defense --classifier {config.classifier} "
                     f"--purifier hgd:{best} --data {config.dataset} --eps {config.report_eps:g}`)")
        return results


def evaluate(config: HGDConfig, checkpoint: str, session: Session) -> dict:
    """``advkit eval defense`` itself (:func:`advkit.commands.eval_defense.evaluate`) on the purifier rebuilt from
    ``checkpoint``: ``--n report_n --seed seed --eps report_eps --pgd-steps report_pgd_steps --aa-iter ...
    --aa-queries ...``, into defense_accuracy.png and defense.md."""
    from advkit.commands.eval_defense import DefenseConfig
    from advkit.commands.eval_defense import evaluate as evaluate_defense

    start = time.perf_counter()
    defense = DefenseConfig(classifier=config.classifier, purifier=f"hgd:{checkpoint}", data=config.dataset,
                            eps=config.report_eps, n=config.report_n, pgd_steps=config.report_pgd_steps,
                            autoattack=config.report_autoattack, aa_iter=config.report_aa_iter,
                            aa_queries=config.report_aa_queries, seed=config.seed, device=config.device)
    title = f"HGD ({config.guide}) before {config.classifier} on {config.dataset}, eps {config.report_eps:g}"
    results = evaluate_defense(defense, session, title, report="defense.md")
    keep = ("accuracy", "seconds", "attacks", "eps", "n", "differentiable", "randomized", "undefended", "conclusion")
    return {**{k: results[k] for k in keep}, "total_s": time.perf_counter() - start, "figure": results["figure"]}
