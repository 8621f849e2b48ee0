"""THE list of GAN objectives ``--loss`` may name: one row per name holding both terms, D's and G's, so a loss
cannot be half defined (readable without torch: fast ``--help``). The terms live in :mod:`advkit.gan.losses`.

A row names D's term ``d(real_logits, fake_logits)`` and G's term ``g(fake_logits)`` (``"module:function"``, each
a 0-dim tensor to minimise, computed on float32 logits), and what the trainers need to know about the objective:
``probability`` (D's output is a logit, logged as sigma), ``wasserstein`` (a critic: WGAN learning rates and
d-steps), ``gradient_penalty`` (WGAN-GP's term on D), ``clip`` (WGAN's weight clipping).

Adding a loss is one file (``advkit/gan/my_loss.py`` with its two terms) and one row here (docs/ARCHITECTURE.md)::

    register(GANLoss("lsgan", d="advkit.gan.my_loss:lsgan_d", g="advkit.gan.my_loss:lsgan_g",
                     help="Least squares (Mao et al. 2017)."))
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from advkit.errors import AdvkitError


@dataclass(frozen=True)
class GANLoss:
    """One objective: its name, D's and G's terms (both required), and how trainers treat it."""

    name: str
    d: str
    g: str
    probability: bool = True
    wasserstein: bool = False
    gradient_penalty: bool = False
    clip: bool = False
    help: str = ""

    def __post_init__(self) -> None:
        if not (self.name and ":" in self.d and ":" in self.g):
            raise AdvkitError(f"GAN loss {self.name!r} needs both terms as 'module:function' (d= and g=); got "
                              f"d={self.d!r}, g={self.g!r}")

    def terms(self) -> tuple[Callable, Callable]:
        """(D's term, G's term), imported on first use."""
        if self.name not in _TERMS:
            _TERMS[self.name] = (_resolve(self.d), _resolve(self.g))
        return _TERMS[self.name]


def _resolve(target: str) -> Callable:
    module, name = target.split(":")
    function = getattr(importlib.import_module(module), name, None)
    if not callable(function):
        raise AdvkitError(f"GAN loss term {target!r} is not a function; fix its catalog row")
    return function


_TERMS: dict[str, tuple[Callable, Callable]] = {}
GAN_LOSSES: dict[str, GANLoss] = {}


def register(entry: GANLoss) -> GANLoss:
    """Add (or replace) a row; ``--loss`` choices and the trainers see it at once."""
    GAN_LOSSES[entry.name] = entry
    _TERMS.pop(entry.name, None)
    return entry


def loss_names() -> tuple[str, ...]:
    """The names ``--loss`` accepts (the click choices read this each time)."""
    return tuple(GAN_LOSSES)


def gan_loss(name: str) -> GANLoss:
    """The row of ``--loss name``, or a one-line error listing the choices."""
    if name not in GAN_LOSSES:
        raise AdvkitError(f"--loss must be one of {', '.join(GAN_LOSSES)}; got {name!r}")
    return GAN_LOSSES[name]


_LOSSES = "advkit.gan.losses"
for _row in (
    GANLoss("minimax", f"{_LOSSES}:logistic_d", f"{_LOSSES}:minimax_g",
            help="Goodfellow et al. 2014, eq. 1 (saturating G loss)."),
    GANLoss("ns", f"{_LOSSES}:logistic_d", f"{_LOSSES}:ns_g", help="Non-saturating G loss (the same paper's fix)."),
    GANLoss("wgan", f"{_LOSSES}:wasserstein_d", f"{_LOSSES}:critic_g", probability=False, wasserstein=True,
            clip=True, help="WGAN (Arjovsky et al. 2017): critic, weights clipped."),
    GANLoss("wgan-gp", f"{_LOSSES}:wasserstein_d", f"{_LOSSES}:critic_g", probability=False, wasserstein=True,
            gradient_penalty=True, help="WGAN-GP (Gulrajani et al. 2017): critic with a gradient penalty."),
    GANLoss("hinge", f"{_LOSSES}:hinge_d", f"{_LOSSES}:critic_g", probability=False,
            help="Hinge loss (Lim & Ye 2017; Miyato et al. 2018)."),
):
    register(_row)
