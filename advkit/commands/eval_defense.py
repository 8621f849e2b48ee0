"""``advkit eval defense``: is a purification defence robust, or does it only hide the gradient? Accuracy of
``classifier(purifier(x))`` on the same points under no attack, the oblivious attack (PGD on the classifier alone),
white-box PGD through a differentiable purifier, BPDA, EOT for a randomised purifier, and AutoAttack through the
adaptive model (Athalye, Carlini & Wagner 2018; :mod:`advkit.defenses`).

    advkit eval defense --classifier default --purifier bit-depth:1 --data mnist --eps 0.3
    advkit eval defense --classifier default --purifier jpeg:75 --data mnist --eps 0.3 --n 200
    advkit eval defense --classifier net.pt --purifier defense-gan:runs/gan-train-.../checkpoints/final.pt --gan-steps 50

``--purifier``: a row of :mod:`advkit.defenses.catalog`: identity | bit-depth:BITS | jpeg:QUALITY | median:KERNEL |
tv:WEIGHT | denoiser:fast|quality|CKPT | hgd:CKPT (``advkit defense train-hgd``) | defense-gan:CKPT, or your own:
torchscript:PATH | package.module:callable. ``--classifier`` and ``--data`` take what ``advkit eval robustness --model/--data`` take.

    >>> from advkit.commands.eval_defense import DefenseConfig, run
    >>> run(DefenseConfig(classifier="default", purifier="jpeg:75", eps=0.3, n=200))["accuracy"]["bpda"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.defenses.catalog import purifier_help
from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for
from advkit.values import parse_one_eps

RUN_DIR = True


@dataclass
class DefenseConfig(RunConfig):
    classifier: str = field(default="default", metadata={
        "help": "default (the shipped MNIST CNN), an advkit checkpoint, a TorchScript file, torchvision:NAME or "
                "package.module:callable (as eval robustness --model)."})
    purifier: str = field(default="bit-depth:4", metadata={"help": purifier_help})
    data: str = field(default="mnist", metadata={
        "help": "mnist | fashion-mnist (test split) | an ImageFolder folder | a .pt/.npz file with x and y."})
    eps: float = field(default=0.3, metadata={"help": "L-inf budget ([0, 1] pixel units; 0.3 or 8/255).", "parsed": True})
    n: int = field(default=200, metadata={"help": "Points evaluated (a seeded random subset; 0: all)."})
    pgd_steps: int = field(default=20, metadata={"help": "Steps of every PGD attack (oblivious, white-box, BPDA, EOT)."})
    restarts: int = field(default=1, metadata={"help": "Random restarts of every PGD attack."})
    eot_samples: int = field(default=8, metadata={"help": "Draws averaged per gradient by EOT (randomised purifiers)."})
    autoattack: bool = field(default=True, metadata={"help": "Run AutoAttack through the adaptive model."})
    aa_iter: int = field(default=20, metadata={"help": "AutoAttack's APGD / FAB iterations (the paper: 100)."})
    aa_queries: int = field(default=500, metadata={"help": "AutoAttack's Square queries (the paper: 5000)."})
    batch_size: int = field(default=200, metadata={"help": "Attack batch size."})
    gan_restarts: int = field(default=4, metadata={"help": "Defense-GAN: random restarts of the projection (R in the paper)."})
    gan_steps: int = field(default=100, metadata={"help": "Defense-GAN: gradient steps per restart (L in the paper)."})
    gan_lr: float = field(default=0.01, metadata={"help": "Defense-GAN: step size of the projection's descent on z."})

    def __post_init__(self) -> None:
        self.eps = parse_one_eps(self.eps)
        if self.eps == 0:
            raise AdvkitError("--eps must be > 0 here: a defence is evaluated under attack (e.g. 0.3 or 8/255)")
        if self.n < 0:
            raise AdvkitError(f"--n must be >= 0 (0: every example); got {self.n}")
        positive = {"--pgd-steps": self.pgd_steps, "--restarts": self.restarts, "--eot-samples": self.eot_samples,
                    "--aa-iter": self.aa_iter, "--aa-queries": self.aa_queries, "--batch-size": self.batch_size,
                    "--gan-restarts": self.gan_restarts, "--gan-steps": self.gan_steps}
        bad = [name for name, value in positive.items() if value < 1]
        if bad or not self.gan_lr > 0:
            raise AdvkitError(f"{', '.join(bad) or '--gan-lr'} must be positive")


CONFIG = DefenseConfig


def run(config: DefenseConfig, session: Session | None = None, **session_options) -> dict:
    with session_for("eval-defense", config, session, **session_options) as session:
        return evaluate(config, session)


def evaluate(config: DefenseConfig, session: Session, title: str | None = None, report: str = "report.md") -> dict:
    """The evaluation in an open session (``defense train-hgd`` runs it on its checkpoint, into ``report``)."""
    from advkit.data.paths import portable
    from advkit.defenses.evaluate import evaluate_defense
    from advkit.defenses.report import write_report
    from advkit.defenses.specs import load_purifier
    from advkit.models.loader import load_model
    from advkit.robustness.specs import check_pair, load_data

    classifier = load_model(config.classifier, session.device)
    purifier = load_purifier(config.purifier, session.device, config.seed, config.gan_restarts, config.gan_steps,
                             config.gan_lr)
    x, y = load_data(config.data, config.n or None, config.seed)
    check_pair(classifier, x, y)
    results = evaluate_defense(classifier, purifier, x, y, config.eps, config.pgd_steps, config.restarts,
                               config.eot_samples, config.aa_iter, config.aa_queries, config.batch_size,
                               config.seed, config.autoattack, track=session.track)
    title = portable(title or f"{config.purifier} before {config.classifier} on {config.data}, eps {config.eps:g}")
    png, md = write_report(results, session.run.path, title, report)
    if session.speaks:
        session.echo("accuracy: " + ", ".join(f"{k} {v:.1%}" for k, v in results["accuracy"].items()))
        session.echo(f"classifier alone (no purifier) under PGD: {results['undefended']:.1%}")
        session.echo(f"conclusion: {results['conclusion']}")
    return {**results, "classifier": config.classifier, "purifier": config.purifier, "data": config.data,
            "figure": str(png), "report": str(md)}
