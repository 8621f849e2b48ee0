"""Robust accuracy per budget and attack, and the worst case per point (a point counts as robust at eps only if it
survives every attack run at eps), with gradient-masking diagnostics (advkit.robustness.diagnostics).

Attacks by norm (``norm="linf"`` or ``"l2"``; budgets in [0, 1] pixel units):

* L-inf: ``fgsm``, ``pgd`` (PGD-40, Madry et al.), ``apgd-ce``, ``apgd-dlr``, ``apgd-t``, ``square``, ``autoattack``;
* L2: ``pgd-l2`` (``pgd`` is accepted as its name), ``cw``, ``deepfool``, ``apgd-ce``, ``apgd-dlr``, ``apgd-t``,
  ``autoattack`` (``square`` where the installed Square supports L2).

CW and DeepFool are minimum-norm attacks: they run once, and a point falls at eps when their perturbation fools the
model with an L2 norm <= eps. APGD, Square and AutoAttack live in ``advkit.attacks.apgd`` / ``square`` /
``autoattack``; when a module is missing, its attacks are skipped with a warning (the worst case then rests on
fewer attacks, which the warning says). Every attack is run on the points classified correctly without attack.

    >>> results = evaluate_robustness(model, x, y, [0.1, 0.2, 0.3], norm="linf", seed=0)
    >>> results["robust_accuracy"]["0.3"]        # {"fgsm": 0.9, "pgd": 0.85, ..., "worst_case": 0.83}
    >>> results["warnings"]                      # diagnostics: gradient masking, FGSM beating PGD, ...
"""

from __future__ import annotations

import inspect
import time
from typing import Callable

import torch
from torch import nn

from advkit.errors import AdvkitError

LINF_ATTACKS = ("fgsm", "pgd", "apgd-ce", "apgd-dlr", "apgd-t", "square", "autoattack")
L2_ATTACKS = ("pgd-l2", "cw", "deepfool", "apgd-ce", "apgd-dlr", "apgd-t", "square", "autoattack")
DEFAULT_ATTACKS = {"linf": ("fgsm", "pgd", "apgd-ce", "apgd-dlr", "square", "autoattack"),
                   "l2": ("pgd-l2", "cw", "deepfool", "apgd-ce", "apgd-dlr", "autoattack")}
MINIMUM_NORM = ("cw", "deepfool")
BLACK_BOX = ("square",)
OPTIONAL_MODULES = {"apgd-ce": "apgd", "apgd-dlr": "apgd", "apgd-t": "apgd", "square": "square", "autoattack": "autoattack"}


def attack_names(attacks, norm: str) -> list[str]:
    """Validated attack names for ``norm`` (None: the defaults); unknown or wrong-norm names raise AdvkitError."""
    if norm not in DEFAULT_ATTACKS:
        raise AdvkitError(f"norm must be linf or l2; got {norm!r}")
    names = list(DEFAULT_ATTACKS[norm] if attacks is None else ([attacks] if isinstance(attacks, str) else attacks))
    known = LINF_ATTACKS if norm == "linf" else L2_ATTACKS
    out = []
    for name in names:
        name = "pgd-l2" if (norm == "l2" and name == "pgd") else name
        if name not in set(LINF_ATTACKS) | set(L2_ATTACKS):
            raise AdvkitError(f"unknown attack {name!r}; choose from {', '.join(known)}")
        if name not in known:
            raise AdvkitError(f"attack {name!r} is not defined for the {norm} norm; choose from {', '.join(known)}")
        if name not in out:
            out.append(name)
    if not out:
        raise AdvkitError("no attacks to run; name at least one")
    return out


def _construct(cls, model, **kwargs):
    """``cls(model, **kwargs)`` with only the keywords its constructor takes (the optional attacks' signatures
    are another module's business; what they do not take they default)."""
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return cls(model, **kwargs)


def build_attack(name: str, model: nn.Module, eps: float, norm: str, generator: torch.Generator, seed: int = 0,
                 pgd_steps: int = 40, restarts: int = 1):
    """An attack object (callable ``(x, y) -> x_adv``) by name; ImportError when its optional module is missing."""
    big_norm = {"linf": "Linf", "l2": "L2"}[norm]
    if name == "fgsm":
        from advkit.attacks import FGSM
        return FGSM(model, eps)
    if name == "pgd":
        from advkit.attacks import PGD
        return PGD(model, eps, steps=pgd_steps, restarts=restarts, generator=generator)
    if name == "pgd-l2":
        from advkit.attacks.pgd_l2 import PGDL2
        return PGDL2(model, eps, steps=pgd_steps, restarts=restarts, generator=generator)
    if name == "cw":  # the paper's 9 x 10,000 Adam steps would take hours on a CPU; these settings find
        from advkit.attacks.cw import CW  # smaller perturbations than PGD-L2's budget (tests/test_attacks_l2.py)
        return CW(model, c=0.1, steps=100, search_steps=5, lr=0.05)
    if name == "deepfool":
        from advkit.attacks.deepfool import DeepFool
        return DeepFool(model, steps=50, overshoot=0.02)
    if name in ("apgd-ce", "apgd-dlr"):
        from advkit.attacks.apgd import APGD
        return _construct(APGD, model, eps=eps, norm=big_norm, loss=name.split("-")[1], restarts=restarts,
                          generator=generator)
    if name == "apgd-t":
        try:
            from advkit.attacks.apgd import APGDT
        except ImportError:  # an APGD with a targeted flag instead of its own class
            from advkit.attacks.apgd import APGD
            return _construct(APGD, model, eps=eps, norm=big_norm, loss="dlr", targeted=True, generator=generator)
        return _construct(APGDT, model, eps=eps, norm=big_norm, restarts=restarts, generator=generator)
    if name == "square":
        from advkit.attacks.square import Square
        if norm == "l2" and "norm" not in inspect.signature(Square.__init__).parameters:
            raise ImportError("the installed Square attack is L-inf only")
        return _construct(Square, model, eps=eps, norm=big_norm, generator=generator)
    if name == "autoattack":
        from advkit.attacks.autoattack import AutoAttack
        return _construct(AutoAttack, model, eps=eps, norm=big_norm, seed=seed, version="standard")
    raise AdvkitError(f"unknown attack {name!r}")


def _fooled(model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack, batch_size: int) -> torch.Tensor:
    """[N] bool: the attack's output is misclassified (one entry per point)."""
    from advkit.attacks import predict

    out = []
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        out.append(predict(model, attack(xb, yb))[0].cpu() != yb.cpu())
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)


def _minimum_norms(model, x, y, attack, batch_size: int) -> torch.Tensor:
    """[N] L2 norm of a minimum-norm attack's perturbation where it fools the model, inf where it does not."""
    from advkit.attacks import predict

    norms = []
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        x_adv = attack(xb, yb).cpu()
        norm = (x_adv - xb.cpu()).flatten(1).norm(dim=1)
        norms.append(torch.where(predict(model, x_adv)[0].cpu() != yb.cpu(), norm, torch.full_like(norm, float("inf"))))
    return torch.cat(norms)


def evaluate_robustness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps_list, attacks=None,
                        norm: str = "linf", batch_size: int = 500, seed: int = 0, pgd_steps: int = 40,
                        restarts: int = 1, diagnostics: bool = True,
                        progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Clean accuracy, robust accuracy per eps and attack plus the per-point worst case, seconds per attack and
    warnings. ``progress(label, done, total)`` is called after each (eps, attack) pair. See the module docstring."""
    from advkit.attacks import predict
    from advkit.robustness.specs import check_pair

    names = attack_names(attacks, norm)
    eps_list = [float(e) for e in eps_list]
    if not eps_list or any(not (e == e and 0 <= e < float("inf")) or (norm == "linf" and e > 1) for e in eps_list):
        raise AdvkitError(f"eps must be a non-empty list of budgets >= 0 (<= 1 for linf); got {eps_list}")
    if batch_size < 1:
        raise AdvkitError(f"batch size must be positive; got {batch_size}")
    check_pair(model, x, y)
    generator = torch.Generator().manual_seed(seed)
    warnings: list[str] = []
    seconds: dict[str, float] = {}
    start_all = time.perf_counter()

    correct = (predict(model, x, batch_size)[0].cpu() == y.cpu())
    seconds["clean"] = time.perf_counter() - start_all
    idx = correct.nonzero().squeeze(1)
    xc, yc = x[idx], y[idx]
    n = x.shape[0]

    available, minimum_norms = [], {}
    for name in names:
        try:
            build_attack(name, model, max(eps_list), norm, generator, seed, pgd_steps, restarts)
        except ImportError as e:
            module = OPTIONAL_MODULES.get(name, name)
            warnings.append(f"{name} skipped: advkit.attacks.{module} is not available ({e}); the worst case rests "
                            "on the other attacks only")
            continue
        available.append(name)
        if name in MINIMUM_NORM:  # run once for every eps
            began = time.perf_counter()
            attack = build_attack(name, model, 0.0, norm, generator, seed, pgd_steps, restarts)
            minimum_norms[name] = _minimum_norms(model, xc, yc, attack, batch_size)
            seconds[name] = time.perf_counter() - began

    table: dict[str, dict[str, float]] = {}
    total, done = len(eps_list) * len(available), 0
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
                attack = build_attack(name, model, eps, norm, generator, seed, pgd_steps, restarts)
                survived[name] = ~_fooled(model, xc, yc, attack, batch_size)
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - began
            done += 1
            if progress is not None:
                progress(f"eps={key} {name}", done, total)
        worst = torch.ones(xc.shape[0], dtype=torch.bool)
        for flags in survived.values():
            worst &= flags
        table[key] = {name: flags.sum().item() / n for name, flags in survived.items()}
        table[key]["worst_case"] = worst.sum().item() / n

    results = {"n": n, "norm": norm, "eps": eps_list, "attacks": available, "clean_accuracy": correct.float().mean().item(),
               "robust_accuracy": table, "seconds": seconds, "warnings": warnings}
    if diagnostics:
        from advkit.robustness.diagnostics import run_diagnostics

        began = time.perf_counter()
        warnings.extend(run_diagnostics(model, xc, yc, results, norm, generator))
        seconds["diagnostics"] = time.perf_counter() - began
    seconds["total"] = time.perf_counter() - start_all
    return results


def strongest_attack_error(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, quick: bool = False,
                           seed: int = 0, batch_size: int = 500) -> dict:
    """Error under the strongest L-inf attack installed, for training reports: AutoAttack (standard); with
    ``quick``, APGD-CE (3 restarts) and APGD-T, worst case per point; without advkit.attacks.apgd / autoattack,
    PGD-40 with 5 restarts (2 when quick) and a note that this is weaker than AutoAttack.

    Returns ``{"strong_attack": name, "strong_attack_error": fraction, "strong_attack_note": text}``."""
    generator = torch.Generator().manual_seed(seed)
    note = ""
    try:
        if quick:
            attacks = [build_attack("apgd-ce", model, eps, "linf", generator, seed, restarts=3),
                       build_attack("apgd-t", model, eps, "linf", generator, seed)]
            label = "APGD-CE (3 restarts) + APGD-T"
        else:
            attacks = [build_attack("autoattack", model, eps, "linf", generator, seed)]
            label = "AutoAttack (standard)"
    except ImportError:
        restarts = 2 if quick else 5
        label = f"PGD-40 x {restarts} restarts"
        attacks = [build_attack("pgd", model, eps, "linf", generator, seed, pgd_steps=40, restarts=restarts)]
        note = ("advkit.attacks.apgd / autoattack are not installed: robust error from PGD with restarts, a lower "
                "bound that AutoAttack usually raises")
    from advkit.attacks import predict

    fooled = predict(model, x, batch_size)[0].cpu() != y.cpu()
    for attack in attacks:
        idx = (~fooled).nonzero().squeeze(1)
        if idx.numel():
            fooled[idx] = _fooled(model, x[idx], y[idx], attack, batch_size)
    return {"strong_attack": label, "strong_attack_error": fooled.float().mean().item(), "strong_attack_note": note}
