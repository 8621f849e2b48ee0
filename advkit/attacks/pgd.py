"""PGD / BIM: iterated FGSM projected onto the L-infinity ball (Kurakin et al. 2017; Madry et al. 2018).

    x_0 = x + U(-eps, eps)   (random start; BIM is PGD without it)
    x_{t+1} = Proj_{||x' - x||_inf <= eps, [0,1]} ( x_t + step * sign(grad_x J(theta, x_t, y)) )

With ``restarts > 1`` the attack runs from several random starts and keeps, *per sample*, the best iterate:
one that fools the model if any does, else the one with the highest loss (lowest target loss when targeted).
No robustness claim should rest on FGSM alone: a model can mask its gradient at ``x`` and still fall to PGD.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` -> ``x_adv`` like ``x``, within ``eps`` of ``x`` in L-inf.

    >>> x_adv = PGD(model, eps=0.3, step=0.01, steps=40, restarts=2)(x, y)
    >>> x_adv = PGD(model, eps=0.3, random_start=False)(x, y)      # BIM
"""

from __future__ import annotations

import torch

from advkit.attacks.base import Attack
from advkit.attacks.randomness import Draws, as_draws
from advkit.errors import AdvkitError


class PGD(Attack):
    def __init__(self, model, eps: float, step: float | None = None, steps: int = 10, restarts: int = 1,
                 random_start: bool = True, targeted: bool = False, clip: bool = True,
                 generator: torch.Generator | Draws | None = None, amp: bool = False):
        super().__init__(model, eps, targeted, clip, amp)
        if steps < 1 or restarts < 1:
            raise AdvkitError(f"PGD needs steps >= 1 and restarts >= 1; got steps={steps}, restarts={restarts}")
        # Default step 2.5*eps/steps (Madry et al.): the iterate can cross the ball and still move after projecting.
        self.step = 2.5 * self.eps / steps if step is None else float(step)
        self.steps, self.restarts, self.random_start = steps, restarts, random_start
        self.generator = generator  # None: the global RNG (as torchattacks draws its start)

    def random_init(self, x: torch.Tensor) -> torch.Tensor:
        if not self.random_start:
            return x.clone()
        if self.generator is None:
            noise = torch.empty_like(x).uniform_(-self.eps, self.eps)
        else:  # drawn on the CPU so a seed gives the same start on every device
            noise = as_draws(self.generator).rand(x.shape).to(x.device).mul_(2 * self.eps).sub_(self.eps)
        return self.finish(x + noise)

    def run_once(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x_adv = self.random_init(x)
        for _ in range(self.steps):
            _, grad = self.loss_and_grad(x_adv, y)
            x_adv = x_adv + self.step * grad.sign()
            x_adv = self.finish(x + (x_adv - x).clamp(-self.eps, self.eps))
        return x_adv

    def score(self, x_adv: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(attack succeeded, attacker's objective) per sample: higher is better for the attacker."""
        with torch.no_grad():
            logits = self.logits(x_adv)  # the model's dtype in, float32 out (a float64 model too)
            loss = torch.nn.functional.cross_entropy(logits, y, reduction="none")
            hit = logits.argmax(1) == y
        return (hit, -loss) if self.targeted else (~hit, loss)

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.eps == 0:
            return x.clone()
        best = self.run_once(x, y)
        if self.restarts == 1:
            return best
        best_success, best_objective = self.score(best, y)
        for _ in range(self.restarts - 1):
            candidate = self.run_once(x, y)
            success, objective = self.score(candidate, y)
            # A success beats any failure; among equals the higher objective wins.
            better = (success & ~best_success) | ((success == best_success) & (objective > best_objective))
            best = torch.where(better.view(-1, *[1] * (x.dim() - 1)), candidate, best)
            best_success, best_objective = best_success | success, torch.where(better, objective, best_objective)
        return best
