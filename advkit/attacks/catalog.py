"""THE list of attacks the evaluation and the command line offer: one row per name (readable without torch).

A row names the class (``"module:Class"``, imported only when the attack is built), the norms it attacks, whether it
is *budgeted* (runs once per eps) or *minimum-norm* (runs once; a point falls at eps when its perturbation is <= eps),
which of the run's settings its constructor takes, fixed keywords, and whether ``eval robustness`` runs it by default.
``eval robustness --attacks``, its help and :func:`advkit.robustness.evaluate.evaluate_robustness` read this table.

Adding an attack is one file (``advkit/attacks/my_attack.py``, a subclass of ``advkit.attacks.base.Attack``) and one
row here (docs/ARCHITECTURE.md, "Adding an attack")::

    register(AttackEntry("my-attack", "advkit.attacks.my_attack:MyAttack", norms=("linf",), takes=("eps", "norm"),
                         help="My attack (Me et al. 2026)."))

Settings a row may take (``takes``): ``eps``, ``norm`` ("linf" / "l2"), ``steps`` (``--pgd-steps``), ``restarts``,
``generator`` (the run's seeded torch.Generator, or in ``eval robustness`` a PointDraws: one random stream per
point, advkit.attacks.randomness) and ``seed``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from advkit.errors import AdvkitError
from advkit.values import NORMS, parse_norm

SETTINGS = ("eps", "norm", "steps", "restarts", "generator", "seed")


@dataclass(frozen=True)
class AttackEntry:
    """One attack: ``name`` (as typed after ``--attacks``), ``target`` (``"module:Class"``), the ``norms`` it attacks,
    ``minimum_norm`` (no budget: it minimises the perturbation), ``takes`` (settings passed to the constructor),
    ``options`` (fixed keywords), ``default`` (norms under which ``eval robustness`` runs it unless told otherwise)."""

    name: str
    target: str
    norms: tuple[str, ...]
    takes: tuple[str, ...] = ("eps",)
    options: dict[str, Any] = field(default_factory=dict)
    minimum_norm: bool = False
    default: tuple[str, ...] = ()
    help: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.takes) - set(SETTINGS)
        if unknown or not self.norms or ":" not in self.target:
            raise AdvkitError(f"attack {self.name!r}: target must be 'module:Class', norms non-empty, takes from "
                              f"{', '.join(SETTINGS)}; got {self.target!r}, {self.norms}, {sorted(unknown)}")
        object.__setattr__(self, "norms", tuple(parse_norm(n) for n in self.norms))
        object.__setattr__(self, "default", tuple(parse_norm(n) for n in self.default))

    def cls(self) -> type:
        """The attack class (imports its module)."""
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)

    def build(self, model, **settings):
        """The attack object for ``model``: the settings in ``takes`` plus the fixed options."""
        return self.cls()(model, **{k: settings[k] for k in self.takes}, **self.options)


ATTACKS: dict[str, AttackEntry] = {}


def register(entry: AttackEntry) -> AttackEntry:
    """Add (or replace) a row; the CLI's choices and help, and the evaluation, see it at once."""
    ATTACKS[entry.name] = entry
    return entry


_PGD = ("eps", "steps", "restarts", "generator")
for _entry in (
    AttackEntry("fgsm", "advkit.attacks.fgsm:FGSM", ("linf",), default=("linf",),
                help="FGSM (Goodfellow et al. 2015): one signed gradient step."),
    AttackEntry("pgd", "advkit.attacks.pgd:PGD", ("linf",), _PGD, default=("linf",),
                help="PGD (Madry et al. 2018), --pgd-steps steps, --restarts random starts."),
    AttackEntry("pgd-l2", "advkit.attacks.pgd_l2:PGDL2", ("l2",), _PGD, default=("l2",),
                help="PGD in the L2 ball (`pgd` under --norm l2)."),
    # The paper's 9 x 10,000 Adam steps would take hours on a CPU; these settings find smaller perturbations than
    # PGD-L2's budget (tests/test_attacks_l2.py).
    AttackEntry("cw", "advkit.attacks.cw:CW", ("l2",), (), {"c": 0.1, "steps": 100, "search_steps": 5, "lr": 0.05},
                minimum_norm=True, default=("l2",), help="Carlini-Wagner L2 (minimum norm)."),
    AttackEntry("deepfool", "advkit.attacks.deepfool:DeepFool", ("l2",), (), {"steps": 50, "overshoot": 0.02},
                minimum_norm=True, default=("l2",), help="DeepFool (Moosavi-Dezfooli et al. 2016; minimum norm)."),
    AttackEntry("apgd-ce", "advkit.attacks.apgd:APGD", NORMS, ("eps", "norm", "restarts", "generator"),
                {"loss": "ce"}, default=NORMS, help="APGD on cross-entropy (Croce & Hein 2020)."),
    AttackEntry("apgd-dlr", "advkit.attacks.apgd:APGD", NORMS, ("eps", "norm", "restarts", "generator"),
                {"loss": "dlr"}, default=NORMS, help="APGD on the DLR loss."),
    AttackEntry("apgd-t", "advkit.attacks.apgd:APGDT", NORMS, ("eps", "norm", "restarts", "generator"),
                help="Targeted APGD-DLR."),
    AttackEntry("square", "advkit.attacks.square:Square", NORMS, ("eps", "norm", "generator"), default=("linf",),
                help="Square (Andriushchenko et al. 2020): black-box, score-based."),
    AttackEntry("autoattack", "advkit.attacks.autoattack:AutoAttack", NORMS, ("eps", "norm", "seed", "generator"),
                {"version": "standard"}, default=NORMS, help="AutoAttack (standard): APGD-CE, APGD-T, FAB-T, Square."),
    # A quick look, never the evaluation to report: torchattacks' AutoAttack() default budget (what most users run).
    AttackEntry("autoattack-quick", "advkit.attacks.autoattack:AutoAttack", NORMS,
                ("eps", "norm", "seed", "generator"),
                {"version": "standard", "n_iter": 10}, help="AutoAttack at a QUICK budget (10 iterations for "
                "APGD-CE, APGD-T and FAB-T, torchattacks' default; Square 5000 queries): weaker than autoattack."),
):
    register(_entry)


def attack_names(attacks: Any, norm: str) -> list[str]:
    """Validated attack names for ``norm`` (None or empty: the defaults; a comma string or a list); ``pgd`` under
    l2 means ``pgd-l2``. Unknown or wrong-norm names raise AdvkitError listing the choices."""
    norm = parse_norm(norm)
    if isinstance(attacks, str):
        attacks = [a.strip() for a in attacks.split(",") if a.strip()]
    if not attacks:
        attacks = [name for name, entry in ATTACKS.items() if norm in entry.default]
    known = [name for name, entry in ATTACKS.items() if norm in entry.norms]
    out = []
    for name in attacks:
        name = "pgd-l2" if (norm == "l2" and name == "pgd") else name
        if name not in ATTACKS:
            raise AdvkitError(f"unknown attack {name!r}; choose from {', '.join(known)}")
        if name not in known:
            raise AdvkitError(f"attack {name!r} is not defined for the {norm} norm; choose from {', '.join(known)}")
        if name not in out:
            out.append(name)
    if not out:
        raise AdvkitError("no attacks to run; name at least one")
    return out


def attacks_help() -> str:
    """The ``--attacks`` help, from the table."""
    by_norm = "; ".join(f"{norm}: {','.join(n for n, e in ATTACKS.items() if norm in e.norms)} (default "
                        f"{','.join(n for n, e in ATTACKS.items() if norm in e.default)})" for norm in NORMS)
    return f"Comma list of attacks; {by_norm}. Minimum-norm: " + ", ".join(
        n for n, e in ATTACKS.items() if e.minimum_norm) + "."
