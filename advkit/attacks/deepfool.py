"""DeepFool (Moosavi-Dezfooli, Fawzi & Frossard 2016, "DeepFool: a simple and accurate method to fool deep
neural networks"), the multi-class L2 version (Algorithm 2).

A minimum-norm attack: at each step the classifier is linearised around the current point and the point moves
onto the nearest linearised decision boundary:

    w_k = grad f_k(x_i) - grad f_y(x_i),   f'_k = f_k(x_i) - f_y(x_i)           for every class k != y
    l = argmin_k |f'_k| / ||w_k||_2,        r_i = (|f'_l| + 1e-4) / ||w_l||_2^2 * w_l
    x_{i+1} = x + (1 + overshoot) * sum_j r_j

until the label changes (at most ``steps`` iterations). ``overshoot`` (0.02 in the paper) pushes the point just
across the boundary; without it the point lands on it. For an affine classifier one step reaches the nearest
boundary exactly. Untargeted only; ``y`` are the labels the attack moves away from.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` -> ``x_adv`` like ``x``; ``x_adv - x`` is
``(1 + overshoot) * r_total`` unless clipping to [0, 1] cut it. Costs one backward pass per class and step.

    >>> x_adv = DeepFool(model, steps=50, overshoot=0.02)(x, y)
    >>> norms = (x_adv - x).flatten(1).norm(dim=1)                  # an upper bound on the minimal L2 distance
"""

from __future__ import annotations

import torch

from advkit.attacks.base import Attack
from advkit.errors import AdvkitError


class DeepFool(Attack):
    def __init__(self, model, steps: int = 50, overshoot: float = 0.02, clip: bool = True):
        super().__init__(model, 0.0, targeted=False, clip=clip)  # no budget: the norm is minimised
        if steps < 1 or not overshoot >= 0:
            raise AdvkitError(f"DeepFool needs steps >= 1 and overshoot >= 0; got steps={steps}, overshoot={overshoot}")
        self.steps, self.overshoot = steps, float(overshoot)

    def logits_and_jacobian(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``[B, K]`` and their gradients w.r.t. the input ``[B, K, C, H, W]`` (one backward per class)."""
        x = x.clone().requires_grad_(True)
        logits = self.logits(x)
        grads = [torch.autograd.grad(logits[:, k].sum(), x, retain_graph=k < logits.shape[1] - 1)[0]
                 for k in range(logits.shape[1])]
        return logits.detach(), torch.stack(grads, dim=1)

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        r_total = torch.zeros_like(x)
        x_adv = x.clone()
        active = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)  # not fooled yet
        for _ in range(self.steps):
            idx = active.nonzero().squeeze(1)
            if idx.numel() == 0:
                break
            logits, jacobian = self.logits_and_jacobian(x_adv[idx])
            still = logits.argmax(1) == y[idx]
            active[idx[~still]] = False
            idx, logits, jacobian = idx[still], logits[still], jacobian[still]
            if idx.numel() == 0:
                break
            label = y[idx]
            rows = torch.arange(idx.numel(), device=x.device)
            w = jacobian - jacobian[rows, label].unsqueeze(1)            # [b, K, C, H, W]
            f = logits - logits[rows, label].unsqueeze(1)                # [b, K]
            w_norm = w.flatten(2).norm(dim=2)                            # [b, K]
            distance = f.abs() / (w_norm + 1e-8)
            distance[rows, label] = float("inf")                         # the true class is no boundary
            nearest = distance.argmin(dim=1)
            w_l, f_l, n_l = w[rows, nearest], f[rows, nearest], w_norm[rows, nearest]
            scale = (f_l.abs() + 1e-4) / (n_l.pow(2) + 1e-8)
            r_total[idx] += scale.view(-1, *[1] * (x.dim() - 1)) * w_l
            x_adv[idx] = self.finish(x[idx] + (1 + self.overshoot) * r_total[idx])
        return x_adv
