"""Adversarial training objectives: Goodfellow et al. 2015 (eq. 6), fast FGSM-RS (Wong, Rice & Kolter 2020),
PGD adversarial training (Madry et al. 2018) and TRADES (Zhang et al. 2019). All L-infinity.

Goodfellow et al.:  J~(theta, x, y) = alpha * J(theta, x, y) + (1 - alpha) * J(theta, x + eps * sign(grad_x J), y)
with the adversarial example regenerated from the *current* model at every step (alpha = 0.5 in the paper).

Fast adversarial training replaces the FGSM point by FGSM from a random start inside the ball:
    delta ~ U(-eps, eps);  delta += 1.25 * eps * sign(grad_delta J(x + delta));  delta = clip(delta, -eps, eps)
It is cheap but can suffer *catastrophic overfitting*: within a few steps FGSM accuracy soars while PGD
accuracy collapses to ~0. :class:`OverfitMonitor` watches PGD accuracy on a fixed batch and keeps the best
weights, so the run can be rolled back (Wong et al.'s early stopping).

PGD-AT (Madry et al. 2018) trains on PGD-k examples from a random start, the min-max problem
    min_theta E max_{||delta||_inf <= eps} J(theta, x + delta, y)
(``method="pgd"``, alpha 0 in the paper: 40 steps of 0.01 at eps 0.3 on MNIST).

TRADES (Zhang et al. 2019) trades clean accuracy for smoothness inside the ball:
    L = CE(f(x), y) + beta * KL(f(x) || f(x_adv)),  x_adv = argmax_{||x' - x||_inf <= eps} KL(f(x) || f(x'))
with x_adv from PGD on the KL started at x + 0.001 N(0, I) (``method="trades"``, beta 6 in the paper).

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]``; the returned loss is a scalar with a graph to theta.

    >>> loss, parts = adversarial_objective(model, x, y, alpha=0.5, eps=0.25)
    >>> loss, parts = adversarial_objective(model, x, y, alpha=0.0, eps=0.3, method="pgd", steps=40, step=0.01)
    >>> loss, parts = trades_objective(model, x, y, eps=0.3, beta=6.0, steps=10, step=0.03)
    >>> loss.backward(); optimizer.step()
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from advkit.attacks import FGSM, PGD, eval_mode
from advkit.errors import AdvkitError


def fgsm_rs_example(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, step_ratio: float = 1.25,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """FGSM from a uniform random start, projected to the eps-ball and [0, 1] (Wong et al. 2020, Alg. 3)."""
    noise = torch.rand(x.shape, generator=generator).to(x.device) if generator is not None else torch.rand_like(x)
    delta = (noise * 2 - 1) * eps
    x_start = (x + delta).clamp(0, 1).requires_grad_(True)
    # The model stays in its current (training) mode here, as in the reference implementation.
    loss = F.cross_entropy(model(x_start), y, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x_start)
    delta = (x_start.detach() - x + step_ratio * eps * grad.sign()).clamp(-eps, eps)
    return (x + delta).clamp(0, 1).detach()


def adversarial_objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor, alpha: float, eps: float,
                          fast: bool = False, clip: bool = True, generator: torch.Generator | None = None,
                          method: str | None = None, steps: int = 10, step: float | None = None
                          ) -> tuple[torch.Tensor, dict[str, float]]:
    """J~ = alpha * J(x) + (1 - alpha) * J(x_adv), x_adv from ``method``: "fgsm" (the default), "fgsm-rs"
    (also ``fast=True``) or "pgd" (``steps`` steps of size ``step`` from a random start).

    Returns the loss and its two parts (for logging)."""
    method = method or ("fgsm-rs" if fast else "fgsm")
    if method == "fgsm-rs":
        x_adv = fgsm_rs_example(model, x, y, eps, generator=generator)
    elif method == "fgsm":
        x_adv = FGSM(model, eps, clip=clip)(x, y)  # FGSM evaluates in eval mode, then restores training mode
    elif method == "pgd":
        x_adv = PGD(model, eps, step=step, steps=steps, clip=clip, generator=generator)(x, y)
    else:
        raise AdvkitError(f"unknown adversarial training method {method!r}; choose one of fgsm, fgsm-rs, pgd "
                          "(trades has its own objective, trades_objective)")
    clean = F.cross_entropy(model(x), y) if alpha > 0 else torch.zeros((), device=x.device)
    adv = F.cross_entropy(model(x_adv), y) if alpha < 1 else torch.zeros((), device=x.device)
    loss = alpha * clean + (1 - alpha) * adv
    return loss, {"loss_clean": clean.item(), "loss_adv": adv.item()}


def trades_example(model: nn.Module, x: torch.Tensor, eps: float, steps: int = 10, step: float | None = None,
                   clip: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """x_adv maximising KL(f(x) || f(x_adv)) in the eps-ball by PGD from x + 0.001 N(0, I) (TRADES, Alg. 1)."""
    step = 2.5 * eps / steps if step is None else step
    noise = torch.randn(x.shape, generator=generator).to(x.device) if generator is not None else torch.randn_like(x)
    with eval_mode(model):  # the reference code attacks in eval mode
        with torch.no_grad():
            p_clean = model(x).softmax(dim=1)
        x_adv = x + 0.001 * noise
        for _ in range(steps):
            x_adv = x_adv.detach().requires_grad_(True)
            kl = F.kl_div(model(x_adv).log_softmax(dim=1), p_clean, reduction="sum")
            (grad,) = torch.autograd.grad(kl, x_adv)
            x_adv = x + (x_adv.detach() + step * grad.sign() - x).clamp(-eps, eps)
            if clip:
                x_adv = x_adv.clamp(0, 1)
    return x_adv.detach()


def trades_objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, beta: float = 6.0,
                     steps: int = 10, step: float | None = None, clip: bool = True,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """TRADES: CE(f(x), y) + beta * KL(f(x) || f(x_adv)) (Zhang et al. 2019, eq. 5); the loss and its parts."""
    x_adv = trades_example(model, x, eps, steps, step, clip, generator)
    logits = model(x)
    clean = F.cross_entropy(logits, y)
    # batchmean: the reference divides the summed KL by the batch size
    robust = F.kl_div(model(x_adv).log_softmax(dim=1), logits.softmax(dim=1), reduction="batchmean")
    return clean + beta * robust, {"loss_clean": clean.item(), "loss_kl": robust.item()}


@dataclass
class OverfitMonitor:
    """Catastrophic-overfitting detector: FGSM and PGD accuracy on a fixed batch, most robust weights kept.

    Overfitting is declared when PGD accuracy falls more than ``drop`` below the best seen so far (Wong et al.
    stop when it drops by 0.2 between checks), or when FGSM accuracy exceeds PGD accuracy by more than ``gap``:
    the model has learned to defeat the one-step attack it trains on, not the eps-ball (it can happen from
    the first epochs, before PGD accuracy ever rose)."""
    x: torch.Tensor
    y: torch.Tensor
    eps: float
    drop: float = 0.2
    gap: float = 0.5
    pgd_steps: int = 10
    best_accuracy: float = -1.0
    best_step: int = 0
    detected_at: int | None = None
    best_state: dict = field(default_factory=dict)

    def check(self, model: nn.Module, step: int) -> tuple[float, float]:
        """(PGD accuracy, FGSM accuracy) now; records the most robust weights and whether robustness collapsed."""
        generator = torch.Generator().manual_seed(0)  # same starts every check: changes come from the model
        x_pgd = PGD(model, self.eps, steps=self.pgd_steps, generator=generator)(self.x, self.y)
        x_fgsm = FGSM(model, self.eps)(self.x, self.y)
        with eval_mode(model), torch.no_grad():
            accuracy = (model(x_pgd).argmax(1) == self.y).float().mean().item()
            fgsm_accuracy = (model(x_fgsm).argmax(1) == self.y).float().mean().item()
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.best_step = accuracy, step
            self.best_state = copy.deepcopy(model.state_dict())
        elif self.detected_at is None and accuracy < self.best_accuracy - self.drop:
            self.detected_at = step
        if self.detected_at is None and fgsm_accuracy - accuracy > self.gap:
            self.detected_at = step
        return accuracy, fgsm_accuracy
