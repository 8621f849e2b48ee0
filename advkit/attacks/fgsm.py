"""FGSM, the fast gradient sign method (Goodfellow, Shlens & Szegedy 2015, eq. 3).

    eta = eps * sign(grad_x J(theta, x, y)),   x_adv = clip_[0,1](x + eta)

An L-infinity attack: every pixel moves by exactly ``eps`` (before clipping). It is one forward and one
backward pass. Targeted (``targeted=True``, ``y`` = target classes) it steps *down* the target's loss:
``x_adv = x - eps * sign(grad_x J(theta, x, target))``.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` int64 -> ``x_adv`` like ``x``, on the model's device.

    >>> x_adv = FGSM(model, eps=0.25)(x, y)                       # untargeted, clipped to [0, 1]
    >>> x_adv = FGSM(model, eps=0.1, targeted=True)(x, targets)   # push towards ``targets``
    >>> x_adv = FGSM(model, eps=0.25, clip=False)(x, y)           # the paper's unclipped perturbation
"""

from __future__ import annotations

import torch

from advkit.attacks.base import Attack


class FGSM(Attack):
    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.eps == 0:  # identity: no gradient needed, and no -0.0/NaN edge cases
            return x.clone()
        _, grad = self.loss_and_grad(x, y)
        # One new tensor (the sign; not sign_(): the input gradient may be an expanded view), then in place.
        return self.finish(grad.sign().mul_(self.eps).add_(x))
