"""``advkit eval domain-classifier``: train the LeNet-style classifier behind domain FID / IS on the training split
(never the test set), and optionally install it into advkit/assets.

    >>> from advkit.commands.eval_domain_classifier import DomainClassifierRunConfig, run
    >>> run(DomainClassifierRunConfig(dataset="mnist", epochs=12))["test_accuracy"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for

RUN_DIR = True


@dataclass
class DomainClassifierRunConfig(RunConfig):
    dataset: str = field(default="mnist", metadata={"help": "Dataset.", "choices": ("mnist", "fashion-mnist")})
    epochs: int = field(default=12, metadata={"help": "Training epochs."})
    data_source: str = field(default="auto", metadata={"help": "MNIST files: auto | offline (5k subset) | full.",
                                                       "choices": ("auto", "offline", "full")})
    install: bool = field(default=False, metadata={
        "help": "Also write the weights into advkit/assets/ (used by domain FID/IS)."})

    def __post_init__(self) -> None:
        if not 1 <= self.epochs <= 200:
            raise AdvkitError(f"--epochs must be in [1, 200]; got {self.epochs}")


CONFIG = DomainClassifierRunConfig


def run(config: DomainClassifierRunConfig, session: Session | None = None, **session_options) -> dict:
    import shutil

    from advkit.data import load_dataset
    from advkit.gan.metrics.domain import asset_path, train_domain_classifier
    from advkit.runtime.checkpoint import save_checkpoint

    with session_for("eval-domain-classifier", config, session, **session_options) as session:
        train = load_dataset(config.dataset, "train", config.data_source)
        test = load_dataset(config.dataset, "test", config.data_source)
        model, report = train_domain_classifier(train, test, epochs=config.epochs, seed=config.seed,
                                                device=session.device)
        path = session.run.checkpoints / f"domain-lenet-{config.dataset}.pt"
        save_checkpoint(path, step=config.epochs, config={"dataset": config.dataset, **report},
                        models={"classifier": model.cpu()})
        if config.install:
            shutil.copyfile(path, asset_path(config.dataset))
        session.echo(f"test accuracy {100 * report['test_accuracy']:.2f}% ({report['test']}); weights {path}"
                     + (f", installed as {asset_path(config.dataset)}" if config.install else ""))
        return {**report, "weights": str(path), "installed": str(asset_path(config.dataset)) if config.install else None}
