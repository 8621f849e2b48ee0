"""Adversarial attacks on [0, 1] images: FGSM, PGD (L-infinity), PGD-L2, CW-L2, DeepFool (L2), APGD / APGD-T
(L-inf, L2), FAB-T, Square, AutoAttack.

    >>> from advkit.attacks import FGSM, PGD, AutoAttack
    >>> x_adv = FGSM(model, eps=0.25)(x, y)
    >>> x_adv = PGD(model, eps=0.25, steps=20, restarts=2)(x, y)
    >>> report = AutoAttack(model, eps=0.3).evaluate(x, y)     # robust accuracy after each attack, per point
"""

from advkit.attacks.apgd import APGD, APGDT
from advkit.attacks.autoattack import AutoAttack
from advkit.attacks.base import IMAGENET_MEAN, IMAGENET_STD, Attack, Normalized, eval_mode, predict
from advkit.attacks.cw import CW
from advkit.attacks.deepfool import DeepFool
from advkit.attacks.fab import FAB
from advkit.attacks.fgsm import FGSM
from advkit.attacks.pgd import PGD
from advkit.attacks.pgd_l2 import PGDL2
from advkit.attacks.square import Square

__all__ = ["APGD", "APGDT", "Attack", "AutoAttack", "CW", "DeepFool", "FAB", "FGSM", "IMAGENET_MEAN", "IMAGENET_STD",
           "Normalized", "PGD", "PGDL2", "Square", "eval_mode", "predict"]
