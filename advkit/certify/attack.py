"""An empirical attack on the smoothed classifier: SmoothAdv PGD (Salman, Yang, Li, Zhang, Zhang, Razenshteyn &
Bubeck 2019, "Provably Robust Deep Learning via Adversarially Trained Smoothed Classifiers", sec. 3), L2.

The smoothed soft classifier G(x) = E_delta softmax(f(x + delta)) is attacked by PGD on the Monte-Carlo estimate
    L(x') = -log( (1/m) sum_i softmax(f(x' + delta_i))_y ),   delta_i ~ N(0, sigma^2 I) drawn afresh each step,
with L2 steps of size 2 eps / steps along the normalised gradient, projected to ||x' - x||_2 <= eps and [0, 1].
The attacked point is then classified by the smoothed classifier's majority vote over ``samples`` draws.

A point is empirically robust at radius r when the vote is y at x and at the attack's output for every budget
<= r. Randomized smoothing's certificate is a guarantee: a point certified correct at r cannot be attacked
within r (except with probability alpha per point), so the empirical robust accuracy at r is never below the
certified accuracy at r; :func:`attack_points` checks it on the attacked points and counts per-point violations.

    >>> empirical = attack_points(smooth, x, y, certified_points, radii=[0, 0.25, 0.5], config=config)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from advkit.certify.smoothing import Smoothed, noise_batches

ATTACK_STREAM, VOTE_STREAM = 1, 2


def smoothadv_pgd(smooth: Smoothed, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, noise: int,
                  generators: list[torch.Generator]) -> torch.Tensor:
    """SmoothAdv PGD-L2 on points ``x`` [G, C, H, W] with labels ``y`` [G]; one noise generator per point."""
    model, sigma = smooth.model, smooth.sigma
    was_training = model.training
    model.eval()
    step = 2 * eps / steps
    x_adv = x.clone()
    try:
        for _ in range(steps):
            delta = torch.stack([torch.randn((noise, *x.shape[1:]), generator=g, device=x.device) for g in generators])
            x_adv.requires_grad_(True)
            noisy = (x_adv.unsqueeze(1) + sigma * delta).flatten(0, 1)
            probs = F.softmax(model(noisy), dim=1).view(x.shape[0], noise, -1).mean(1)
            loss = F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x_adv)
            norm = grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (x.dim() - 1))
            with torch.no_grad():
                moved = x_adv + step * grad / norm
                shift = moved - x
                scale = (eps / shift.flatten(1).norm(dim=1).clamp_min(1e-12)).clamp(max=1.0).view_as(norm)
                x_adv = (x + shift * scale).clamp(0, 1)
    finally:
        model.train(was_training)
    return x_adv.detach()


@torch.inference_mode()
def majority_vote(smooth: Smoothed, x: torch.Tensor, num: int, generator: torch.Generator) -> int:
    """The smoothed classifier's top class over ``num`` draws (no abstention: the empirical attack's verdict)."""
    return int(smooth.counts(x, num, generator).argmax())


def attack_points(smooth: Smoothed, x_all: torch.Tensor, y_all: torch.Tensor, points: list[dict],
                  radii: list[float], config, session=None, rows: dict[int, int] | None = None) -> dict:
    """SmoothAdv at every radius on ``points`` (CERTIFY's dicts; a point's ``index`` is its row of ``x_all``, or
    ``rows[index]``): empirical robust accuracy beside the certified accuracy on the same points, and whether the
    first is never below the second."""
    group = max(1, config.batch_size // config.attack_noise)
    robust = {p["index"]: True for p in points}
    empirical, certified, violations = {}, {}, {}
    device = smooth.device
    for r in radii:
        key = f"{r:g}"
        for start in range(0, len(points), group):
            chunk = [p for p in points[start:start + group] if robust[p["index"]]]
            if not chunk:
                continue
            index = [p["index"] for p in chunk]
            at = [rows[i] for i in index] if rows is not None else index
            x, y = x_all[at].to(device), y_all[at].to(device)
            if r > 0:
                gens = [smooth.generator(i, ATTACK_STREAM) for i in index]
                x = smoothadv_pgd(smooth, x, y, r, config.attack_steps, config.attack_noise, gens)
            for k, p in enumerate(chunk):
                vote = majority_vote(smooth, x[k], config.attack_samples, smooth.generator(p["index"], VOTE_STREAM))
                robust[p["index"]] = vote == p["label"]
        n = max(len(points), 1)
        empirical[key] = sum(robust.values()) / n
        certified_here = [p for p in points if p["correct"] and p["radius"] >= r]
        certified[key] = len(certified_here) / n
        violations[key] = sum(not robust[p["index"]] for p in certified_here)
        if session is not None:
            session.echo(f"SmoothAdv at radius {key}: empirical robust accuracy {empirical[key]:.1%}, certified "
                         f"{certified[key]:.1%} ({len(points)} points)")
    holds = all(empirical[k] >= certified[k] for k in empirical)
    return {"n": len(points), "attack": f"SmoothAdv PGD-L2 ({config.attack_steps} steps, {config.attack_noise} "
                                       f"noise draws per gradient; vote over {config.attack_samples} draws)",
            "robust_accuracy": empirical, "certified_accuracy": certified, "violations": violations,
            "empirical_at_least_certified": holds}
