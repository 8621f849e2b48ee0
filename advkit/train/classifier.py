"""Classifier training: plain, adversarial (Goodfellow et al. 2015, eq. 6), fast FGSM-RS (Wong et al. 2020),
PGD adversarial training (Madry et al. 2018) or TRADES (Zhang et al. 2019).

The step is the only thing written here (the loop, checkpoints, resume, logging live in
:class:`advkit.train.base.Trainer`):

* plain:        loss = J(theta, x, y)                                  (``--alpha 1``)
* adversarial:  loss = alpha J(x) + (1 - alpha) J(x + eps sign grad_x J)   (default alpha 0.5, eps 0.25)
* fast:         as adversarial, with FGSM from a random start (``--fast``); catastrophic overfitting is
                watched every ``--overfit-check-every`` steps and the most robust weights are kept.
* pgd:          as adversarial, x_adv from PGD-k (``--method pgd --attack-steps k --attack-step a``; Madry: alpha 0)
* trades:       CE(f(x), y) + beta KL(f(x) || f(x_adv)), x_adv from PGD on the KL (``--method trades --beta 6``)
* gaussian:     CE(f(x + N(0, sigma^2 I)), y), for randomized smoothing (``--method gaussian --sigma 0.25``)
* consistency:  Jeong & Shin 2020's consistency regularisation on noisy copies (``--method consistency``)

Each training image can be moved by a random offset of up to ``--augment-shift`` pixels (small training sets),
training eps can ramp up linearly over ``--eps-warmup`` steps, the learning rate can follow a cosine schedule,
and ``--weight-average`` keeps an exponential moving average of the weights that is evaluated and saved instead.
The end-of-training report attacks with AutoAttack when advkit.attacks.autoattack exists (APGD-CE + APGD-T
when quick), else with PGD and says so.

    config = ClassifierConfig(arch="maxout", alpha=0.5, eps=0.25, steps=2000)
    config = ClassifierConfig(arch="madry", method="pgd", alpha=0, eps=0.3, attack_steps=40, attack_step=0.01)
    with open_session("advtrain", config) as session:      # advkit.runtime.session
        ClassifierTrainer(config, session).fit()
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from advkit.train.adversarial_objective import OverfitMonitor, adversarial_objective, trades_objective
from advkit.certify.noise_training import consistency_objective, gaussian_objective
from advkit.gan.diffaugment import shift
from advkit.train.base import Trainer


class ClassifierTrainer(Trainer):
    def build(self) -> None:
        from advkit.data import TensorData, load_dataset
        from advkit.data.tensors import training_subset
        from advkit.models.registry import build_model

        c = self.config
        train = load_dataset(c.dataset, "train")
        if 0 < c.train_size < len(train):
            # The rest of the split is the held-out validation set: `--data mnist:heldout:N` of certify / eval.
            keep, _ = training_subset(len(train), c.train_size)
            train = TensorData(train.images[keep], train.labels[keep], train.name,
                               f"{c.train_size} random images of the {train.source}", train.num_classes)
        test = load_dataset(c.dataset, "test").subset(c.eval_size)
        self.train_data, self.test_data = train.to(self.device), test.to(self.device)
        self.data_source = f"{train.source} / {test.source}"
        net = build_model(c.arch, c.model_args).to(self.device)
        self.models["net"] = net
        self.optimizers["net"] = torch.optim.Adam(net.parameters(), lr=c.lr)
        self.averaged = None
        if c.weight_average:
            self.averaged = copy.deepcopy(net).requires_grad_(False)
        self.monitor = None
        if c.fast and c.alpha < 1:
            # A fixed training batch, drawn from its own seeded stream so it does not shift the training batches.
            idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(self.seed))[:256].to(self.device)
            self.monitor = OverfitMonitor(self.train_data.images[idx], self.train_data.labels[idx], c.eps)

    def train_step(self, step: int) -> dict[str, float]:
        c, net, opt = self.config, self.models["net"], self.optimizers["net"]
        net.train()
        x, y = self.train_data.sample(c.batch_size, self.generator)
        if c.augment_shift:
            # Per-image shifts (DiffAugment's translation, zeros shifted in): on 5k images PGD-AT's robust training
            # loss goes to ~0 while robust test accuracy stalls (robust overfitting, Rice et al. 2020).
            x = shift(x, c.augment_shift, c.augment_shift, self.generator)
        eps, step_size = c.train_eps(step), c.attack_step or None
        if c.plain:
            loss, parts = F.cross_entropy(net(x), y), {}
        elif c.method == "gaussian":
            loss, parts = gaussian_objective(net, x, y, c.sigma, self.generator)
        elif c.method == "consistency":
            loss, parts = consistency_objective(net, x, y, c.sigma, c.noise_copies, c.consistency,
                                                c.consistency_entropy, self.generator)
        elif c.method == "trades":
            loss, parts = trades_objective(net, x, y, eps, c.beta, c.attack_steps, step_size, clip=c.clip,
                                           generator=self.generator)
        else:
            loss, parts = adversarial_objective(net, x, y, c.alpha, eps, clip=c.clip, generator=self.generator,
                                                method=c.method, steps=c.attack_steps, step=step_size)
        if c.lr_schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = 0.5 * c.lr * (1 + math.cos(math.pi * step / c.steps))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if self.averaged is not None:
            self.update_average(step)
        figures = {"loss": loss.item(), **parts}
        if eps != c.eps:
            figures["train_eps"] = eps
        if self.monitor is not None and (step + 1) % c.overfit_check_every == 0:
            figures["train_pgd_accuracy"], figures["train_fgsm_accuracy"] = self.monitor.check(net, step + 1)
        return figures

    def update_average(self, step: int) -> None:
        """EMA of the weights after each update, warmed up as advkit.gan.ema (the mean of early iterates)."""
        from advkit.gan.ema import ema_decay, ema_pairs, ema_update

        ema_update(*ema_pairs(self.averaged, self.models["net"]), ema_decay(step, self.config.weight_average))

    @property
    def final_model(self) -> torch.nn.Module:
        """What is evaluated, reported and saved: the weight average when there is one, else the network."""
        return self.averaged if self.averaged is not None else self.models["net"]

    def extra_state(self) -> dict:
        return {"averaged": self.averaged.state_dict()} if self.averaged is not None else {}

    def load_extra_state(self, state: dict) -> None:
        if self.averaged is not None and "averaged" in state:
            self.averaged.load_state_dict(state["averaged"])

    def evaluate(self, step: int) -> dict[str, float]:
        from advkit.attacks import FGSM, predict

        net, data = self.final_model, self.test_data
        pred, _ = predict(net, data.images)
        fgsm_pred, _ = predict(net, FGSM(net, self.config.eps)(data.images, data.labels))
        return {"test_error": (pred != data.labels).float().mean().item(),
                "test_fgsm_error": (fgsm_pred != data.labels).float().mean().item()}

    def report(self, quick: bool | None = None, label: str = "report") -> dict:
        """Clean, FGSM and PGD error and mean confidence on wrong answers at eps on --report-size test images, and
        the error under the strongest attack: AutoAttack (standard), or APGD-CE (3 restarts) + APGD-T when quick.
        ``label`` names the progress bars ("before", "after")."""
        from advkit.robustness.tables import robustness
        from advkit.data import load_dataset
        from advkit.robustness.evaluate import strongest_attack_error

        c = self.config
        if quick is None:
            quick = c.quick
        with self.session.status(f"{label}: loading the test set"):
            test = load_dataset(c.dataset, "test").subset(c.report_size).to(self.device)
        track = self.session.track  # these attacks take a minute or more: a bar per attack, moving per batch
        (row,) = robustness(self.final_model, test.images, test.labels, [c.eps], pgd_steps=c.report_pgd_steps,
                            seed=self.seed, progress=lambda batches, what: track(batches, None, f"{label} {what}"))
        if c.report_pgd_steps:
            n = min(c.report_strong_size, len(test))
            row.update(strongest_attack_error(self.final_model, test.images[:n], test.labels[:n], c.eps, quick=quick,
                                              seed=self.seed, track=lambda b, t, what: track(b, t, f"{label} {what}")),
                       strong_attack_n=n)
        return row

    def save_final(self, path) -> Path:
        """The trained classifier alone (no optimizer state: a third of the size), for ``advkit fgsm --model``;
        ``--resume`` uses the step checkpoints instead. The weight average when ``--weight-average`` is on."""
        from advkit.runtime.checkpoint import save_checkpoint

        return save_checkpoint(path, step=self.step, config=self.config_dict(), models={"net": self.final_model},
                               extra={"data": self.data_source})

    def restore_most_robust(self) -> int | None:
        """After fast training that overfit catastrophically: go back to the most robust weights (their step)."""
        if self.monitor is None or self.monitor.detected_at is None or not self.monitor.best_state:
            return None
        self.models["net"].load_state_dict(self.monitor.best_state)
        if self.averaged is not None:  # the average holds overfit weights too: keep the most robust ones
            self.averaged.load_state_dict(self.monitor.best_state)
        return self.monitor.best_step
