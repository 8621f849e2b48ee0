"""Evaluate a purification defence the way Athalye, Carlini & Wagner (2018) did: on the same points, the accuracy of
``classifier(purifier(x))`` under each attack, from the weakest threat model to the adaptive ones:

* ``clean``: no attack;
* ``oblivious``: PGD on the classifier alone, then purified (the attacker ignores the defence: what most defence
  papers reported);
* ``white-box``: PGD through the composition, when the purifier is differentiable (a denoiser; the median filter is treated as not);
* ``bpda``: PGD through :class:`BPDA` (identity backward): the forward pass purifies, the backward pass skips it;
* ``eot``: PGD on :class:`EOT` (averaged logits over ``eot_samples`` draws), for randomised purifiers;
* ``autoattack``: AutoAttack through the adaptive model (``rand`` version, with EOT, for randomised purifiers).

A point counts as robust in ``worst_case`` only if it survives every attack. Budgets are L-inf, pixel units.
``undefended`` is the classifier alone (clean and on the oblivious attack's examples, no purifier): the baseline
the conclusion holds the purifier to, so a purifier that costs a robust classifier its robustness is said to.

    >>> results = evaluate_defense(classifier, JPEG(75), x, y, eps=0.3, seed=0)
    >>> results["accuracy"]        # {"clean": 0.99, "oblivious": 0.8, "bpda": 0.02, "autoattack": 0.0, ...}
    >>> results["conclusion"]
"""

from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

from advkit.defenses.bpda import BPDA
from advkit.defenses.defended import Defended
from advkit.defenses.eot import EOT
from advkit.errors import AdvkitError
from advkit.runtime.modules import model_device

ADAPTIVE = ("white-box", "bpda", "eot", "autoattack")


def _correct(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> torch.Tensor:
    device, out = model_device(model), []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            out.append((model(x[start:start + batch_size].to(device)).argmax(1).cpu() == y[start:start + batch_size]))
    return torch.cat(out)


def _batched(attack, x: torch.Tensor, y: torch.Tensor, batch_size: int, track: Callable | None = None,
             description: str = "attack") -> torch.Tensor:
    starts = range(0, x.shape[0], batch_size)
    starts = track(starts, len(starts), description) if track is not None else starts  # a bar moving per batch
    return torch.cat([attack(x[s:s + batch_size], y[s:s + batch_size]).cpu() for s in starts])


LOSS_MARGIN = 0.05  # points of accuracy a purifier may cost before it is said to remove robustness (100 points:
# one standard error is about 3 points)


def conclusion(accuracy: dict, eps: float, undefended: float | None = None) -> str:
    """One line: "robust" only when the adaptive attacks leave the defended model robust *and* the purifier does not
    leave it less robust than the classifier alone (``undefended``: the classifier's own accuracy on the oblivious
    PGD examples, no purifier), so a purifier is judged against no defence, not only against an absolute bar. Like
    is compared with like: the undefended PGD figure with the adaptive PGD rows (white-box, BPDA, EOT), not with
    AutoAttack, which is stronger than PGD on the classifier alone too."""
    adaptive = {k: v for k, v in accuracy.items() if k in ADAPTIVE}
    worst_name = min(adaptive, key=adaptive.get)
    worst, oblivious, clean = adaptive[worst_name], accuracy["oblivious"], accuracy["clean"]
    pgd_rows = {k: v for k, v in adaptive.items() if k != "autoattack"}
    pgd_name = min(pgd_rows, key=pgd_rows.get) if pgd_rows else None
    if undefended is not None and pgd_name is not None and pgd_rows[pgd_name] < undefended - LOSS_MARGIN:
        return (f"worse than no defence at eps {eps:g}: {pgd_rows[pgd_name]:.1%} under {pgd_name} PGD through the "
                f"purifier ({worst:.1%} under {worst_name}), against {undefended:.1%} for the classifier alone under "
                "the same PGD; the purifier removes robustness the classifier had")
    if worst >= 0.5 * clean and worst >= 0.5:
        own = ""
        if undefended is not None:
            own = (f"; the classifier alone keeps {undefended:.1%} under PGD, so the robustness is "
                   + ("the classifier's own" if worst <= undefended + LOSS_MARGIN else "partly the purifier's"))
        return (f"robust against these attacks at eps {eps:g}: {worst:.1%} under the strongest adaptive attack "
                f"({worst_name}) of {clean:.1%} clean{own}; a claim needs stronger attacks too (docs/defenses.md)")
    if oblivious - worst >= 0.2 and worst_name == "white-box":  # a useful gradient: nothing was hidden
        return (f"not robust at eps {eps:g}: the oblivious attack leaves {oblivious:.1%} but white-box PGD through "
                f"the purifier leaves {worst:.1%}; the defence holds only against attackers who ignore it")
    if oblivious - worst >= 0.2:
        return (f"not robust at eps {eps:g}: the oblivious attack leaves {oblivious:.1%} but {worst_name} leaves "
                f"{worst:.1%}; the defence only hides the gradient (obfuscated gradients)")
    return f"not robust at eps {eps:g}: {worst:.1%} under {worst_name} ({clean:.1%} clean, {oblivious:.1%} oblivious)"


def evaluate_defense(classifier: nn.Module, purifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
                     steps: int = 20, restarts: int = 1, eot_samples: int = 8, aa_iter: int = 20,
                     aa_queries: int = 500, batch_size: int = 200, seed: int = 0, autoattack: bool = True,
                     progress: Callable[[str, int, int], None] | None = None, track: Callable | None = None) -> dict:
    """Accuracy of ``classifier(purifier(.))`` per attack on ``x`` [N, C, H, W] in [0, 1], ``y`` [N]; see above.
    ``progress(name, i, n)`` is called before each attack; ``track`` (shaped like
    :func:`advkit.runtime.progress.track`) runs each attack's batches, so a bar moves per batch.

    Returns ``{"accuracy": {attack: float}, "robust": {attack: [N] bool list}, "attacks": [names], "seconds":
    {attack: float}, "eps", "n", "differentiable", "randomized", "undefended", "conclusion"}``."""
    from advkit.attacks import PGD, AutoAttack

    if not 0 < eps <= 1:
        raise AdvkitError(f"eps must be in (0, 1] (L-inf, pixels in [0, 1]); got {eps}")
    if steps < 1 or restarts < 1 or eot_samples < 1 or batch_size < 1:
        raise AdvkitError("steps, restarts, eot samples and batch size must all be >= 1")
    x, y = x.float().cpu(), y.long().cpu()
    defended = Defended(classifier, purifier).eval()
    differentiable, randomized = defended.differentiable, defended.randomized
    bpda = Defended(classifier, BPDA(purifier)).eval()
    adaptive = defended if differentiable else bpda

    def pgd(model: nn.Module) -> PGD:
        return PGD(model, eps, steps=steps, restarts=restarts, generator=torch.Generator().manual_seed(seed))

    attacks: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
        "oblivious": pgd(classifier)}
    if differentiable:
        attacks["white-box"] = pgd(defended)
    attacks["bpda"] = pgd(bpda)
    if randomized:
        attacks["eot"] = pgd(EOT(adaptive, eot_samples, torch.Generator().manual_seed(seed)))
    if autoattack:
        attacks["autoattack"] = AutoAttack(adaptive, eps, version="rand" if randomized else "standard",
                                           n_iter=aa_iter, n_queries=aa_queries, eot_iter=eot_samples, seed=seed)
    names = ["clean", *attacks]
    robust, seconds = {"clean": _correct(defended, x, y, batch_size)}, {}
    for i, (name, attack) in enumerate(attacks.items()):
        if progress:
            progress(name, i, len(attacks))
        start = time.perf_counter()
        x_adv = _batched(attack, x, y, batch_size, track, f"[{i + 1}/{len(attacks)}] {name}")
        robust[name] = _correct(defended, x_adv, y, batch_size) & robust["clean"]
        seconds[name] = round(time.perf_counter() - start, 2)
        if name == "oblivious":  # the same examples against the classifier alone: the no-defence baseline
            undefended = (_correct(classifier, x_adv, y, batch_size)
                          & _correct(classifier, x, y, batch_size)).float().mean().item()
    robust["worst_case"] = torch.stack(list(robust.values())).all(0)
    accuracy = {name: flags.float().mean().item() for name, flags in robust.items()}
    return {"accuracy": accuracy, "robust": {k: v.tolist() for k, v in robust.items()}, "attacks": names,
            "seconds": seconds, "eps": eps, "n": int(x.shape[0]), "differentiable": differentiable,
            "randomized": randomized, "undefended": undefended, "conclusion": conclusion(accuracy, eps, undefended)}
