"""Robust accuracy per budget and attack, and the worst case per point (a point counts as robust at eps only if it
survives every attack run at eps), with gradient-masking diagnostics (advkit.robustness.diagnostics).

The attacks, their norms and which run by default are the rows of :mod:`advkit.attacks.catalog` (``norm="linf"``
or ``"l2"``; budgets in [0, 1] pixel units). Minimum-norm attacks (CW, DeepFool) run once, and a point falls at eps
when their perturbation fools the model with an L2 norm <= eps. Every attack is run on the points classified
correctly without attack, in blocks; every point draws its random numbers from streams seeded by the point
itself, so a point's result depends neither on the batch size nor on the other points of its batch, and runs split
over processes (torchrun) or resumed after a kill give the same per-point results (:mod:`advkit.robustness.shards`).

    >>> results = evaluate_robustness(model, x, y, [0.1, 0.2, 0.3], norm="linf", seed=0)
    >>> results["robust_accuracy"]["0.3"]        # {"fgsm": 0.9, "pgd": 0.85, ..., "worst_case": 0.83}
    >>> results["warnings"]                      # diagnostics: gradient masking, FGSM beating PGD, ...
"""

from __future__ import annotations

import hashlib
import time
from typing import Callable

import torch
from torch import nn

from advkit.attacks.catalog import ATTACKS, attack_names
from advkit.errors import AdvkitError
from advkit.values import parse_eps, parse_norm


def build_attack(name: str, model: nn.Module, eps: float, norm: str, generator, seed: int = 0,
                 pgd_steps: int = 40, restarts: int = 1):
    """The attack object (callable ``(x, y) -> x_adv``) of catalog row ``name``, with the run's settings
    (``generator``: a torch.Generator, or a PointDraws giving each point its own stream)."""
    if name not in ATTACKS:
        raise AdvkitError(f"unknown attack {name!r}; choose from {', '.join(ATTACKS)}")
    return ATTACKS[name].build(model, eps=eps, norm=parse_norm(norm), steps=pgd_steps, restarts=restarts,
                               generator=generator, seed=seed)


def _batches(n: int, batch_size: int, track: Callable | None, description: str):
    """The batch starts of ``n`` points, through ``track`` (a progress bar, see advkit.runtime.progress)."""
    starts = range(0, n, batch_size)
    return track(starts, len(starts), description) if track is not None and len(starts) else starts


def _fooled(model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack, batch_size: int,
            track: Callable | None = None, description: str = "attack") -> torch.Tensor:
    """[N] bool: the attack's output is misclassified (one entry per point)."""
    from advkit.attacks import predict

    out = []
    for start in _batches(x.shape[0], batch_size, track, description):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        out.append(predict(model, attack(xb, yb))[0].cpu() != yb.cpu())
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)


def _minimum_norms(model, x, y, attack) -> torch.Tensor:
    """[N] L2 norm of a minimum-norm attack's perturbation where it fools the model, inf where it does not."""
    from advkit.attacks import predict

    x_adv = attack(x, y).cpu()
    norm = (x_adv - x.cpu()).flatten(1).norm(dim=1)
    return torch.where(predict(model, x_adv)[0].cpu() != y.cpu(), norm, torch.full_like(norm, float("inf")))


def evaluate_robustness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps_list, attacks=None,
                        norm: str = "linf", batch_size: int = 500, seed: int = 0, pgd_steps: int = 40,
                        restarts: int = 1, diagnostics: bool = True, progress: Callable[..., None] | None = None,
                        track: Callable | None = None, runner=None, indices=None) -> dict:
    """Clean accuracy, robust accuracy per eps and attack plus the per-point worst case (``robust_points``: the
    indices of the points robust at each eps), seconds per attack and warnings.

    Points are attacked in blocks of ``batch_size``, each point with random draws of its own, seeded by its
    ``indices`` entry (its index in the data set, :func:`advkit.robustness.specs.load_points`; default: its position
    in ``x``)
    (:mod:`advkit.robustness.shards`; ``runner``, a BlockRunner, splits them over processes and stores them in a
    run directory). ``track`` (shaped like :func:`advkit.runtime.progress.track`: rate and ETA) runs each (eps,
    attack) pair's blocks; ``progress(label, points done, points, points/s, seconds left)`` is called after each
    block. See the module docstring."""
    from advkit.attacks import predict
    from advkit.attacks.randomness import PointDraws
    from advkit.robustness.shards import BlockRunner, PointStore
    from advkit.robustness.specs import check_pair

    norm = parse_norm(norm)
    names = attack_names(attacks, norm)
    eps_list = list(parse_eps(eps_list, norm, "eps"))
    if batch_size < 1:
        raise AdvkitError(f"batch size must be positive; got {batch_size}")
    check_pair(model, x, y)
    runner = runner or BlockRunner(PointStore(None), batch_size=batch_size, seed=seed)
    runner.progress, runner.track = progress or runner.progress, track or runner.track
    warnings: list[str] = []
    seconds: dict[str, float] = {}
    start_all = time.perf_counter()

    correct = (predict(model, x, runner.batch_size)[0].cpu() == y.cpu())
    seconds["clean"] = time.perf_counter() - start_all
    idx = correct.nonzero().squeeze(1)
    xc, yc = x[idx], y[idx]
    n = x.shape[0]
    indices = torch.arange(n) if indices is None else torch.as_tensor(indices).cpu().long()
    if indices.shape != (n,):
        raise AdvkitError(f"indices must name each of the {n} points once; got shape {tuple(indices.shape)}")
    runner.store.pin({"n": n, "labels": hashlib.sha256(y.cpu().numpy().tobytes()).hexdigest()[:16],
                      "correct": idx.tolist(), "batch_size": runner.batch_size, "seed": seed, "norm": norm,
                      "eps": eps_list, "attacks": names, "pgd_steps": pgd_steps, "restarts": restarts,
                      # how blocks draw: runs stored before per-point draws are refused on resume, not mixed in
                      "draws": "per-point", "indices": hashlib.sha256(indices.numpy().tobytes()).hexdigest()[:16]})

    def attack_fn(name: str, eps: float):
        def run_block(xb: torch.Tensor, yb: torch.Tensor, seeds: list[int]) -> torch.Tensor:
            attack = build_attack(name, model, eps, norm, PointDraws(seeds), seed, pgd_steps, restarts)
            if ATTACKS[name].minimum_norm:
                return _minimum_norms(model, xb, yb, attack)
            return ~_fooled(model, xb, yb, attack, xb.shape[0])
        return run_block

    available, minimum_norms = names, {}
    for name in names:
        if ATTACKS[name].minimum_norm:  # run once for every eps
            began = time.perf_counter()
            minimum_norms[name] = runner.run("any", name, indices[idx], xc, yc, attack_fn(name, 0.0))
            seconds[name] = time.perf_counter() - began

    table: dict[str, dict[str, float]] = {}
    robust_points: dict[str, list[int]] = {}
    for eps in eps_list:
        key = f"{eps:g}"
        survived = {}
        for name in available:
            began = time.perf_counter()
            if name in minimum_norms:
                survived[name] = ~(minimum_norms[name] <= eps * (1 + 1e-6) + 1e-6)
            elif eps == 0:
                survived[name] = torch.ones(xc.shape[0], dtype=torch.bool)
            else:
                survived[name] = runner.run(key, name, indices[idx], xc, yc, attack_fn(name, eps)).bool()
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - began
        worst = torch.ones(xc.shape[0], dtype=torch.bool)
        for flags in survived.values():
            worst &= flags
        table[key] = {name: flags.sum().item() / n for name, flags in survived.items()}
        table[key]["worst_case"] = worst.sum().item() / n
        robust_points[key] = idx[worst].tolist()

    results = {"n": n, "norm": norm, "eps": eps_list, "attacks": available, "clean_accuracy": correct.float().mean().item(),
               "robust_accuracy": table, "robust_points": robust_points, "batch_size": runner.batch_size,
               "seconds": seconds, "warnings": warnings}
    if diagnostics:
        from advkit.robustness.diagnostics import run_diagnostics

        began = time.perf_counter()  # a generator of its own: the same checks whatever ran before or where
        warnings.extend(run_diagnostics(model, xc, yc, results, norm, torch.Generator().manual_seed(seed),
                                        batch_size=runner.batch_size))
        seconds["diagnostics"] = time.perf_counter() - began
    seconds["total"] = time.perf_counter() - start_all
    return results


def strongest_attack_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, quick: bool = False,
                           seed: int = 0, batch_size: int = 500, track: Callable | None = None) -> dict:
    """Error under the strongest L-inf attack, for training reports: AutoAttack (standard); with ``quick``,
    APGD-CE (3 restarts) and APGD-T, worst case per point.

    Returns ``{"strong_attack": name, "strong_attack_error": fraction, "strong_attack_note": ""}``; ``track``: a
    progress bar per batch (see :func:`evaluate_robustness`)."""
    from advkit.attacks import predict

    generator = torch.Generator().manual_seed(seed)
    if quick:
        attacks = [("apgd-ce", build_attack("apgd-ce", model, eps, "linf", generator, seed, restarts=3)),
                   ("apgd-t", build_attack("apgd-t", model, eps, "linf", generator, seed))]
        label = "APGD-CE (3 restarts) + APGD-T"
    else:
        attacks = [("autoattack", build_attack("autoattack", model, eps, "linf", generator, seed))]
        label = "AutoAttack (standard)"
    fooled = predict(model, x, batch_size)[0].cpu() != y.cpu()
    for name, attack in attacks:
        idx = (~fooled).nonzero().squeeze(1)
        if idx.numel():
            fooled[idx] = _fooled(model, x[idx], y[idx], attack, batch_size, track, f"{name} eps={eps:g}")
    return {"strong_attack": label, "strong_attack_error": fooled.float().mean().item(), "strong_attack_note": ""}
