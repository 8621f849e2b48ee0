"""Adversarial attacks on [0, 1] images: FGSM (Goodfellow et al. 2015) and PGD/BIM (L-infinity).

    >>> from advkit.attacks import FGSM, PGD
    >>> x_adv = FGSM(model, eps=0.25)(x, y)
    >>> x_adv = PGD(model, eps=0.25, steps=20, restarts=2)(x, y)
"""

from advkit.attacks.base import IMAGENET_MEAN, IMAGENET_STD, Attack, Normalized, eval_mode, predict
from advkit.attacks.fgsm import FGSM
from advkit.attacks.pgd import PGD

__all__ = ["Attack", "FGSM", "IMAGENET_MEAN", "IMAGENET_STD", "Normalized", "PGD", "eval_mode", "predict"]
