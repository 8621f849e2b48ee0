"""Checks that a robustness number is not an artefact of a broken attack or a masked gradient (the warning signs of
Athalye, Carlini & Wagner 2018, sec. 3.1, and Carlini et al. 2019, "On Evaluating Adversarial Robustness"):

* a black-box attack (Square) beats every white-box one: the gradients mislead the white-box attacks;
* one-step FGSM beats iterative PGD: PGD's gradient steps go the wrong way (masking, or a bad step size);
* accuracy does not fall to ~0 under an unbounded budget (eps 1 in L-inf; the cube's diagonal sqrt(C H W) in
  L2, which holds every image): any image can then become any other, so the attack is what fails;
* robust accuracy rises with eps: a larger ball contains the smaller one;
* PGD's loss does not increase over its iterations: it is not ascending.

Each returns a warning string that says what was seen and why it matters; none means no sign was seen.

    >>> warnings = run_diagnostics(model, x_correct, y_correct, results, "linf", generator)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from advkit.runtime.modules import eval_mode, model_device, model_dtype

BLACK_BOX = ("square",)
ENSEMBLES = ("autoattack", "autoattack-quick")  # contain the black-box attack itself
UNBOUNDED_MAX_ACCURACY = 0.1
SAMPLE = 100  # points for the extra checks


def black_box_beats_white_box(table: dict[str, dict[str, float]], tol: float) -> list[str]:
    out = []
    for eps, row in table.items():
        white = {k: v for k, v in row.items() if k not in (*BLACK_BOX, *ENSEMBLES, "worst_case")}
        for name in BLACK_BOX:
            if name in row and white and row[name] < min(white.values()) - tol:
                best = min(white, key=white.get)
                out.append(f"eps={eps}: black-box {name} ({row[name]:.1%}) beats every white-box attack (best: {best}, "
                           f"{white[best]:.1%}): gradients mislead the white-box attacks (gradient masking?)")
    return out


def fgsm_beats_pgd(table: dict[str, dict[str, float]], tol: float) -> list[str]:
    out = []
    for eps, row in table.items():
        pgd = row.get("pgd", row.get("pgd-l2"))
        if "fgsm" in row and pgd is not None and row["fgsm"] < pgd - tol:
            out.append(f"eps={eps}: FGSM ({row['fgsm']:.1%}) beats PGD ({pgd:.1%}): iterating the gradient makes the "
                       "attack weaker, a sign of a masked gradient or a too small PGD step")
    return out


def accuracy_rises_with_eps(table: dict[str, dict[str, float]], tol: float) -> list[str]:
    out, keys = [], sorted(table, key=float)
    for small, big in zip(keys, keys[1:]):
        if table[big]["worst_case"] > table[small]["worst_case"] + tol:
            out.append(f"worst-case accuracy rises from {table[small]['worst_case']:.1%} at eps={small} to "
                       f"{table[big]['worst_case']:.1%} at eps={big}: a bigger ball holds the smaller one, so the "
                       "attacks are failing at the larger budget")
    return out


def _pgd(model, eps: float, steps: int, norm: str, generator, random_start: bool = True):
    from advkit.attacks import PGD
    from advkit.attacks.pgd_l2 import PGDL2

    cls = PGD if norm == "linf" else PGDL2
    return cls(model, eps, steps=steps, random_start=random_start, generator=generator)


def unbounded_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, norm: str, generator) -> list[str]:
    if x.shape[0] == 0:
        return []
    x, y = x[:SAMPLE], y[:SAMPLE]
    eps = 1.0 if norm == "linf" else math.sqrt(x[0].numel())
    x_adv = _pgd(model, eps, 20, norm, generator)(x, y)
    with eval_mode(model), torch.no_grad():
        accuracy = (model(x_adv.to(model_dtype(model))).argmax(1).cpu() == y.cpu()).float().mean().item()
    if accuracy > UNBOUNDED_MAX_ACCURACY:
        return [f"PGD-20 at eps={eps:g} ({norm}, a ball holding every image) leaves {accuracy:.1%} of {x.shape[0]} "
                f"points classified correctly instead of ~0: the attack cannot follow the gradient (masked or "
                "obfuscated gradients), so every robust accuracy here is suspect"]
    return []


def pgd_loss_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, norm: str,
                   checkpoints=(0, 1, 5, 20)) -> list[float]:
    """Mean cross-entropy after k PGD steps (from x, no random start) for each k in ``checkpoints``."""
    device = model_device(model)
    losses = []
    for k in checkpoints:
        x_adv = x if k == 0 else _pgd(model, eps, k, norm, None, random_start=False)(x, y)
        with eval_mode(model), torch.no_grad():
            losses.append(F.cross_entropy(model(x_adv.to(device, model_dtype(model))).float(), y.to(device)).item())
    return losses


def pgd_loss_not_increasing(model, x, y, eps: float, norm: str) -> list[str]:
    if x.shape[0] == 0 or eps == 0:
        return []
    losses = pgd_loss_curve(model, x[:SAMPLE], y[:SAMPLE], eps, norm)
    if not losses[-1] > losses[1] >= losses[0]:
        curve = ", ".join(f"{v:.3g}" for v in losses)
        return [f"PGD's loss at eps={eps:g} does not increase over its iterations (mean CE after 0, 1, 5, 20 steps: "
                f"{curve}): the attack is not ascending (masked gradient, or a loss that saturates)"]
    return []


def run_diagnostics(model: nn.Module, x: torch.Tensor, y: torch.Tensor, results: dict, norm: str, generator=None,
                    tol: float = 0.01, batch_size: int = SAMPLE) -> list[str]:
    """Every check; ``x``, ``y`` are the points classified correctly without attack (the extra attacks use the
    first ``min(SAMPLE, batch_size)`` of them: one batch)."""
    x, y = x[:min(SAMPLE, batch_size)], y[:min(SAMPLE, batch_size)]
    table = results["robust_accuracy"]
    tol = max(tol, 1.5 / max(results["n"], 1))  # one point is noise
    warnings = black_box_beats_white_box(table, tol) + fgsm_beats_pgd(table, tol) + accuracy_rises_with_eps(table, tol)
    warnings += unbounded_accuracy(model, x, y, norm, generator)
    warnings += pgd_loss_not_increasing(model, x, y, max(results["eps"]), norm)
    return warnings
