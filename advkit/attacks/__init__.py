"""Adversarial attacks on [0, 1] images: FGSM, PGD (L-infinity), PGD-L2, CW-L2, DeepFool (L2), APGD / APGD-T
(L-inf, L2), FAB-T, Square, AutoAttack. Names are imported on first use (``import advkit.attacks`` loads no torch);
:mod:`advkit.attacks.catalog` lists them for the evaluation and the command line.

    >>> from advkit.attacks import FGSM, PGD, AutoAttack
    >>> x_adv = FGSM(model, eps=0.25)(x, y)
    >>> x_adv = PGD(model, eps=0.25, steps=20, restarts=2)(x, y)
    >>> report = AutoAttack(model, eps=0.3).evaluate(x, y)     # robust accuracy after each attack, per point
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advkit.runtime.lazy import lazy_names

if TYPE_CHECKING:  # the names below, for type checkers and the layout test's import graph
    from advkit.attacks.apgd import APGD, APGDT
    from advkit.attacks.autoattack import AutoAttack
    from advkit.attacks.base import IMAGENET_MEAN, IMAGENET_STD, Attack, Normalized, eval_mode, predict
    from advkit.attacks.cw import CW
    from advkit.attacks.deepfool import DeepFool
    from advkit.attacks.fab import FAB
    from advkit.attacks.fgsm import FGSM
    from advkit.attacks.pgd import PGD
    from advkit.attacks.pgd_l2 import PGDL2
    from advkit.attacks.randomness import BatchDraws, PointDraws, point_seed
    from advkit.attacks.square import Square

_WHERE = {"APGD": "apgd", "APGDT": "apgd", "AutoAttack": "autoattack", "IMAGENET_MEAN": "base", "IMAGENET_STD": "base",
          "Attack": "base", "Normalized": "base", "eval_mode": "base", "predict": "base", "CW": "cw",
          "DeepFool": "deepfool", "FAB": "fab", "FGSM": "fgsm", "PGD": "pgd", "PGDL2": "pgd_l2", "Square": "square",
          "BatchDraws": "randomness", "PointDraws": "randomness", "point_seed": "randomness"}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
