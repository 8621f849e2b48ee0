"""Classifier training: plain, adversarial (Goodfellow et al. 2015, eq. 6) or fast FGSM-RS (Wong et al. 2020).

The step is the only thing written here (the loop, checkpoints, resume, logging live in
:class:`advkit.train.base.Trainer`):

* plain:        loss = J(theta, x, y)                                  (``--alpha 1``)
* adversarial:  loss = alpha J(x) + (1 - alpha) J(x + eps sign grad_x J)   (default alpha 0.5, eps 0.25)
* fast:         as adversarial, with FGSM from a random start (``--fast``); catastrophic overfitting is
                watched every ``--overfit-check-every`` steps and the most robust weights are kept.

    config = ClassifierConfig(arch="maxout", alpha=0.5, eps=0.25, steps=2000)
    with open_session("advtrain", config) as session:      # advkit.runtime.session
        ClassifierTrainer(config, session).fit()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from advkit.adversarial.objective import OverfitMonitor, adversarial_objective
from advkit.errors import AdvkitError
from advkit.models.classifiers import ARCHS
from advkit.train.base import Trainer, TrainerConfig


@dataclass
class ClassifierConfig(TrainerConfig):
    steps: int = field(default=2000, metadata={"help": "Optimizer steps (50 steps = one epoch of the 5k subset at batch 100)."})
    batch_size: int = field(default=100, metadata={"help": "Batch size."})
    sample_every: int = field(default=500, metadata={"help": "Evaluate clean/FGSM error on --eval-size test images every N steps."})
    checkpoint_every: int = field(default=500, metadata={"help": "Write a checkpoint every N steps."})
    arch: str = field(default="maxout", metadata={"help": "Classifier architecture.", "choices": ARCHS})
    dataset: str = field(default="mnist", metadata={"help": "Training set (train split; the test split is only evaluated).",
                                                    "choices": ("mnist", "fashion-mnist")})
    alpha: float = field(default=0.5, metadata={"help": "Weight of the clean loss in J~ (1 = plain training)."})
    eps: float = field(default=0.25, metadata={"help": "FGSM budget (L-inf, pixels in [0, 1]) used for training."})
    fast: bool = field(default=False, metadata={"help": "Fast adversarial training: FGSM from a random start (Wong et al. 2020)."})
    train_size: int = field(default=0, metadata={"help": "Train on a seeded random subset of N images (0: the whole split)."})
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})
    units: int = field(default=240, metadata={"help": "Width: maxout units / MLP hidden units per layer."})
    pieces: int = field(default=5, metadata={"help": "Maxout pieces per unit."})
    eval_size: int = field(default=1000, metadata={"help": "Test images for the periodic evaluation."})
    overfit_check_every: int = field(default=50, metadata={"help": "Steps between catastrophic-overfitting checks (--fast)."})
    report_size: int = field(default=10000, metadata={"help": "Test images for the before/after report."})
    report_pgd_steps: int = field(default=20, metadata={"help": "PGD steps in the before/after report (0: skip PGD)."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (0 <= self.alpha <= 1):
            raise AdvkitError(f"--alpha must be in [0, 1] (weight of the clean loss); got {self.alpha}")
        if not (0 <= self.eps <= 1):
            raise AdvkitError(f"--eps must be in [0, 1] (inputs are images in [0, 1]); got {self.eps}")
        if self.lr <= 0 or self.units <= 0 or self.pieces <= 0 or self.eval_size <= 0 or self.overfit_check_every <= 0 \
                or self.report_size <= 0 or self.report_pgd_steps < 0 or self.train_size < 0:
            raise AdvkitError("--lr, --units, --pieces, --eval-size, --overfit-check-every and --report-size must be positive")

    @property
    def model_args(self) -> dict:
        """Constructor args of the chosen architecture."""
        return {"maxout": {"units": self.units, "pieces": self.pieces}, "mlp": {"hidden": self.units}}.get(self.arch, {})


class ClassifierTrainer(Trainer):
    def build(self) -> None:
        from advkit.data import TensorData, load_dataset
        from advkit.models.registry import build_model

        c = self.config
        train = load_dataset(c.dataset, "train")
        if 0 < c.train_size < len(train):
            # A random subset (the offline MNIST subset is sorted by class), the same for every seed.
            keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:c.train_size]
            train = TensorData(train.images[keep], train.labels[keep], train.name,
                               f"{c.train_size} random images of the {train.source}", train.num_classes)
        test = load_dataset(c.dataset, "test").subset(c.eval_size)
        self.train_data, self.test_data = train.to(self.device), test.to(self.device)
        self.data_source = f"{train.source} / {test.source}"
        net = build_model(c.arch, c.model_args).to(self.device)
        self.models["net"] = net
        self.optimizers["net"] = torch.optim.Adam(net.parameters(), lr=c.lr)
        self.monitor = None
        if c.fast and c.alpha < 1:
            # A fixed training batch, drawn from its own seeded stream so it does not shift the training batches.
            idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(self.seed))[:256].to(self.device)
            self.monitor = OverfitMonitor(self.train_data.images[idx], self.train_data.labels[idx], c.eps)

    def train_step(self, step: int) -> dict[str, float]:
        c, net, opt = self.config, self.models["net"], self.optimizers["net"]
        net.train()
        x, y = self.train_data.sample(c.batch_size, self.generator)
        if c.alpha >= 1 or c.eps == 0:
            loss, parts = F.cross_entropy(net(x), y), {}
        else:
            loss, parts = adversarial_objective(net, x, y, c.alpha, c.eps, fast=c.fast, generator=self.generator)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        figures = {"loss": loss.item(), **parts}
        if self.monitor is not None and (step + 1) % c.overfit_check_every == 0:
            figures["train_pgd_accuracy"], figures["train_fgsm_accuracy"] = self.monitor.check(net, step + 1)
        return figures

    def evaluate(self, step: int) -> dict[str, float]:
        from advkit.attacks import FGSM, predict

        net, data = self.models["net"], self.test_data
        pred, _ = predict(net, data.images)
        fgsm_pred, _ = predict(net, FGSM(net, self.config.eps)(data.images, data.labels))
        return {"test_error": (pred != data.labels).float().mean().item(),
                "test_fgsm_error": (fgsm_pred != data.labels).float().mean().item()}

    def report(self) -> dict[str, float]:
        """Clean, FGSM and PGD error and mean confidence on wrong answers at eps, on --report-size test images."""
        from advkit.adversarial.evaluate import robustness
        from advkit.data import load_dataset

        c = self.config
        test = load_dataset(c.dataset, "test").subset(c.report_size).to(self.device)
        (row,) = robustness(self.models["net"], test.images, test.labels, [c.eps], pgd_steps=c.report_pgd_steps,
                            seed=self.seed)
        return row

    def save_final(self, path) -> Path:
        """The trained classifier alone (no optimizer state: a third of the size), for ``advkit fgsm --model``;
        ``--resume`` uses the step checkpoints instead."""
        from advkit.runtime.checkpoint import save_checkpoint

        return save_checkpoint(path, step=self.step, config=self.config_dict(), models={"net": self.models["net"]},
                               extra={"data": self.data_source})

    def restore_most_robust(self) -> int | None:
        """After fast training that overfit catastrophically: go back to the most robust weights (their step)."""
        if self.monitor is None or self.monitor.detected_at is None or not self.monitor.best_state:
            return None
        self.models["net"].load_state_dict(self.monitor.best_state)
        return self.monitor.best_step
