"""Carlini & Wagner's L2 attack (Carlini & Wagner 2017, "Towards Evaluating the Robustness of Neural Networks").

A minimum-norm attack: no budget, it searches for the smallest L2 perturbation that fools the model.

    minimise  ||x_adv - x||_2^2 + c * f(x_adv),     x_adv = (tanh(w) + 1) / 2       (the tanh box: always in [0, 1])
    f(x') = max(Z(x')_y - max_{i != y} Z(x')_i, -kappa)                              (untargeted, logits Z)
    f(x') = max(max_{i != t} Z(x')_i - Z(x')_t, -kappa)                              (targeted, ``y`` = targets t)

solved by Adam over ``w`` for ``steps`` iterations, with a per-sample binary search over ``c`` (``search_steps``
rounds starting at ``initial_const``: c is halved towards success and multiplied by 10 while no success has
been seen). ``kappa`` asks for a confidence margin in logits. Per sample the smallest successful perturbation
over all rounds is returned; a sample that was never fooled comes back unchanged.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` -> ``x_adv`` like ``x`` in [0, 1].

    >>> x_adv = CW(model, c=1e-3, kappa=0, steps=1000, search_steps=9, lr=0.01)(x, y)    # the paper's settings
    >>> norms = (x_adv - x).flatten(1).norm(dim=1)                                       # 0 where it failed
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from advkit.attacks.base import Attack
from advkit.errors import AdvkitError


class CW(Attack):
    def __init__(self, model, c: float = 1e-3, kappa: float = 0.0, steps: int = 1000, search_steps: int = 9,
                 lr: float = 0.01, targeted: bool = False, amp: bool = False):
        super().__init__(model, 0.0, targeted, clip=True, amp=amp)  # no budget: the norm is minimised
        if not (c > 0 and kappa >= 0 and lr > 0 and steps >= 1 and search_steps >= 1):
            raise AdvkitError(f"CW needs c > 0, kappa >= 0, lr > 0, steps >= 1, search_steps >= 1; got c={c}, "
                              f"kappa={kappa}, lr={lr}, steps={steps}, search_steps={search_steps}")
        self.c, self.kappa, self.steps, self.search_steps, self.lr = float(c), float(kappa), steps, search_steps, lr

    def margin(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Z_y - max_{i != y} Z_i (untargeted) or max_{i != t} Z_i - Z_t (targeted): > -kappa while not fooled."""
        true = logits.gather(1, y[:, None]).squeeze(1)
        other = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(dim=1)
        return other - true if self.targeted else true - other

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        # atanh of the image, shrunk a hair so 0 and 1 map to finite w
        w_start = torch.atanh((x * 2 - 1) * (1 - 1e-6))
        const = torch.full((batch,), self.c, device=x.device)
        lower, upper = torch.zeros_like(const), torch.full_like(const, 1e10)
        best_norm = torch.full_like(const, float("inf"))
        best = x.clone()
        for _ in range(self.search_steps):
            w = w_start.clone().requires_grad_(True)
            optimizer = torch.optim.Adam([w], lr=self.lr)
            succeeded = torch.zeros(batch, dtype=torch.bool, device=x.device)
            for _ in range(self.steps):
                x_adv = (torch.tanh(w) + 1) / 2
                logits = self.logits(x_adv)
                margin = self.margin(logits, y)
                squared = (x_adv - x).flatten(1).pow(2).sum(dim=1)
                loss = (squared + const * margin.clamp(min=-self.kappa)).sum()  # samples are independent
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():  # keep the smallest perturbation that fools with margin kappa
                    fooled = margin < -self.kappa if self.kappa > 0 else margin < 0
                    norm = squared.sqrt()
                    improved = fooled & (norm < best_norm)
                    best_norm = torch.where(improved, norm, best_norm)
                    best = torch.where(improved.view(-1, *[1] * (x.dim() - 1)), x_adv.detach(), best)
                    succeeded |= fooled
            # Binary search on c: success -> try a smaller c; failure -> a larger one (x10 until bracketed).
            upper = torch.where(succeeded, torch.minimum(upper, const), upper)
            lower = torch.where(succeeded, lower, torch.maximum(lower, const))
            const = torch.where(upper < 1e9, (lower + upper) / 2, const * 10)
        return best
