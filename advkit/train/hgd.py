"""Training the high-level representation guided denoiser (Liao et al. 2018; :mod:`advkit.defenses.hgd`).

The classifier ``f`` stays fixed (frozen, eval mode). Before the first step the trainer makes a fixed set of
adversarial training images, as the paper does: ``--copies`` versions of every training image, crafted against
``f`` alone by FGSM or PGD (``--attacks``) at a budget uniform in [``--eps-min``, ``--eps-max``], one (attack, eps)
draw per ``--chunk`` images, from a generator seeded by ``--seed`` (so a resumed run rebuilds the same set). Each
step then draws a batch of (clean, adversarial) pairs and lowers the guided loss of the denoised images::

    x_hat = clamp(x_adv - D(x_adv), 0, 1)
    loss  = || f(x_hat) - f(x) ||_1                  (--guide logits; features: the last hidden layer;
                                                      labels: cross-entropy of f(x_hat) with the true class)

Model choice uses ``--val-size`` images held out of the training split (never the test set): every
``--sample-every`` steps, the guided loss on their adversarial versions (made the same way), the defended
accuracy on them and on PGD at ``--eps-max`` (the oblivious attack), and on the clean images; the lowest
validation loss is kept as ``checkpoints/best.pt``. The base :class:`~advkit.train.base.Trainer` owns the loop,
checkpoints, exact resume, logging, Ctrl-C and the NaN guard; this file writes only the step.

    >>> config = HGDConfig(classifier="default", guide="logits", steps=1500)
    >>> with open_session("defense-train-hgd", config) as session:
    ...     figures = HGDTrainer(config, session).fit()
"""

from __future__ import annotations

import math

import torch
from torch import nn

from advkit.defenses.hgd import HGD, ROLE, guided_loss, last_hidden
from advkit.errors import AdvkitError
from advkit.models.registry import build_model
from advkit.runtime.modules import eval_mode
from advkit.train.base import Trainer
from advkit.train.hgd_config import HGDConfig

SPLIT_SEED = 0  # the validation split is the same for every --seed (as advtrain's --train-size subset)
GRID = 8  # columns of the clean | adversarial | denoised sample grid


def adversarial_set(classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, attacks: list[str], eps_min: float,
                    eps_max: float, steps: int, copies: int, chunk: int, generator: torch.Generator,
                    track=lambda it, total: it) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x_adv [copies * N, C, H, W], index [copies * N] into x, eps [copies * N])``: each copy of each chunk of
    ``chunk`` images attacked by one attack of ``attacks`` at one eps uniform in [eps_min, eps_max]."""
    from advkit.attacks import FGSM, PGD

    out, index, budgets = [], [], []
    starts = [(copy, s) for copy in range(copies) for s in range(0, x.shape[0], chunk)]
    for _, start in track(starts, len(starts)):
        name = attacks[int(torch.randint(len(attacks), (1,), generator=generator))]
        eps = eps_min + (eps_max - eps_min) * float(torch.rand((), generator=generator))
        part = slice(start, start + chunk)
        attack = (PGD(classifier, eps, steps=steps, generator=generator) if name == "pgd" else FGSM(classifier, eps))
        out.append(attack(x[part], y[part]))
        index.append(torch.arange(x.shape[0], device=x.device)[part])
        budgets.append(torch.full((out[-1].shape[0],), eps))
    return torch.cat(out), torch.cat(index), torch.cat(budgets)


class HGDTrainer(Trainer):
    config: HGDConfig

    def build(self) -> None:
        from advkit.attacks import PGD
        from advkit.data import load_dataset
        from advkit.models.loader import load_model
        from advkit.robustness.specs import check_pair

        c = self.config
        self.classifier = load_model(c.classifier, self.device)
        data = load_dataset(c.dataset, "train")
        if c.val_size >= len(data):
            raise AdvkitError(f"--val-size {c.val_size} leaves no training image ({len(data)} in {data.source})")
        check_pair(self.classifier, data.images, data.labels)
        if c.guide == "features":
            with torch.no_grad():
                last_hidden(self.classifier, data.images[:2].to(self.device))  # refused now, not at step 1
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(SPLIT_SEED))
        images, labels = data.images.to(self.device), data.labels.to(self.device)
        train, val = order[c.val_size:].to(self.device), order[:c.val_size].to(self.device)
        if c.train_size:
            train = train[:c.train_size]
        self.x, self.y = images[train], labels[train]
        self.val_x, self.val_y = images[val], labels[val]
        self.data_source = f"{data.source}: {len(train)} training / {len(val)} validation images"
        # Fixed adversarial sets, from a generator of their own: the same on resume, whatever the batches drew.
        made = torch.Generator().manual_seed(self.seed + 1)
        track = lambda it, total: self.session.track(it, total, "adversarial training set")  # noqa: E731
        self.x_adv, self.index, _ = adversarial_set(self.classifier, self.x, self.y, c.attack_names, c.eps_min,
                                                    c.eps_max, c.attack_steps, c.copies, c.chunk, made, track)
        self.val_adv, self.val_index, _ = adversarial_set(self.classifier, self.val_x, self.val_y, c.attack_names,
                                                          c.eps_min, c.eps_max, c.attack_steps, 1, c.chunk, made)
        self.val_pgd = PGD(self.classifier, c.eps_max, steps=c.attack_steps, generator=made)(self.val_x, self.val_y)
        self.models[ROLE] = build_model("denoise-unet", {
            "channels": images.shape[1], "width": c.width, "levels": c.levels, "blocks": c.blocks, "norm": "batch",
            "residual": True}).to(self.device)
        self.optimizers[ROLE] = torch.optim.Adam(self.models[ROLE].parameters(), lr=c.lr)
        self.best_loss, self.best_step = math.inf, 0

    @property
    def purifier(self) -> HGD:
        return HGD(self.models[ROLE])

    def train_step(self, step: int) -> dict[str, float]:
        c, D, opt = self.config, self.models[ROLE], self.optimizers[ROLE]
        lr = c.lr * 0.5 * (1 + math.cos(math.pi * step / c.steps))  # cosine decay: a function of the step alone
        for group in opt.param_groups:
            group["lr"] = lr
        pick = torch.randint(self.x_adv.shape[0], (c.batch_size,), generator=self.generator).to(self.device)
        x_adv, clean = self.x_adv[pick], self.index[pick]
        D.train()
        loss = guided_loss(self.classifier, self.purifier(x_adv), self.x[clean], self.y[clean], c.guide)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "lr": lr}

    @torch.no_grad()
    def _defended_correct(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with eval_mode(self.models[ROLE]):
            return torch.cat([self.classifier(self.purifier(x[s:s + 500])).argmax(1) == y[s:s + 500]
                              for s in range(0, x.shape[0], 500)])

    def evaluate(self, step: int) -> dict[str, float]:
        c = self.config
        with eval_mode(self.models[ROLE]), torch.no_grad():
            losses = [guided_loss(self.classifier, self.purifier(self.val_adv[s:s + 500]),
                                  self.val_x[self.val_index[s:s + 500]], self.val_y[self.val_index[s:s + 500]], c.guide)
                      * min(500, self.val_adv.shape[0] - s) for s in range(0, self.val_adv.shape[0], 500)]
        figures = {"val_loss": (sum(losses) / self.val_adv.shape[0]).item(),
                   "val_adv_accuracy": self._defended_correct(self.val_adv, self.val_y[self.val_index]).float().mean().item(),
                   "val_pgd_accuracy": self._defended_correct(self.val_pgd, self.val_y).float().mean().item(),
                   "val_clean_accuracy": self._defended_correct(self.val_x, self.val_y).float().mean().item()}
        if figures["val_loss"] < self.best_loss:
            self.best_loss, self.best_step = figures["val_loss"], step
            self.save(self.run.checkpoints / "best.pt")
        return figures

    def sample(self, step: int) -> None:
        from torchvision.utils import make_grid, save_image

        x, x_adv = self.val_x[:GRID], self.val_pgd[:GRID]
        with eval_mode(self.models[ROLE]), torch.no_grad():
            rows = torch.cat([x, x_adv, self.purifier(x_adv)]).cpu()  # clean | PGD at eps-max | denoised
        grid = make_grid(rows, nrow=GRID, padding=2)
        if self.run.main_process:
            save_image(grid, self.run.images / f"step-{step:08d}.png")
            self.run.writer.add_image("samples/clean|adversarial|denoised", grid, step)

    def extra_state(self) -> dict:
        return {"best_loss": self.best_loss, "best_step": self.best_step, "data": self.data_source}

    def load_extra_state(self, state: dict) -> None:
        self.best_loss = float(state.get("best_loss", math.inf))
        self.best_step = int(state.get("best_step", 0))
