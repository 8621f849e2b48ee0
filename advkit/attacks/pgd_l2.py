"""PGD-L2: projected gradient descent in the L2 ball (Madry, Makelov, Schmidt, Tsipras & Vladu 2018).

    x_0 = x + r * eps * d / ||d||,  d ~ N(0, I), r ~ U(0, 1)       (random start; off with random_start=False)
    x_{t+1} = Proj_{||x' - x||_2 <= eps, [0,1]} ( x_t + step * g / ||g||_2 ),   g = grad_x J(theta, x_t, y)

The L2 sibling of :class:`advkit.attacks.PGD`: the step follows the L2-normalised gradient (the steepest ascent
direction for the L2 norm) instead of its sign, and the projection rescales the perturbation onto the sphere
when it leaves the ball. Norms are per image over all of C x H x W. The budget is in [0, 1] pixel units, but an
L2 budget may exceed 1 (the whole 28x28 image has L2 norm up to 28; eps 2 is the usual MNIST budget, 0.5 CIFAR-10).
With ``restarts > 1`` the best iterate per sample is kept, as in :class:`advkit.attacks.PGD`.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` -> ``x_adv`` like ``x``, within ``eps`` of ``x`` in L2.

    >>> x_adv = PGDL2(model, eps=2.0, step=0.25, steps=40, restarts=2)(x, y)
    >>> x_adv = PGDL2(model, eps=2.0, random_start=False)(x, y)    # as torchattacks.PGDL2(random_start=False)
"""

from __future__ import annotations

import torch

from advkit.attacks.pgd import PGD
from advkit.attacks.randomness import Draws, as_draws
from advkit.values import check_eps

TINY = 1e-10  # keeps a zero gradient or perturbation from dividing by zero (torchattacks' eps_for_division)


def l2_norms(t: torch.Tensor) -> torch.Tensor:
    """Per-image L2 norm, shaped ``[B, 1, 1, 1]`` (broadcasts against the batch)."""
    return t.flatten(1).norm(dim=1).view(-1, *[1] * (t.dim() - 1))


class PGDL2(PGD):
    def __init__(self, model, eps: float, step: float | None = None, steps: int = 10, restarts: int = 1,
                 random_start: bool = True, targeted: bool = False, clip: bool = True,
                 generator: torch.Generator | Draws | None = None, amp: bool = False):
        eps = check_eps(eps, "l2")
        # The base class checks an L-inf budget (<= 1); an L2 budget may be larger, so it is set after.
        super().__init__(model, min(eps, 1.0), 1.0, steps, restarts, random_start, targeted, clip, generator, amp)
        self.eps, self.norm = eps, "l2"
        self.step = 2.5 * self.eps / steps if step is None else float(step)

    def random_init(self, x: torch.Tensor) -> torch.Tensor:
        if not self.random_start:
            return x.clone()
        # Drawn on the CPU when seeded, so a seed gives the same start on every device.
        radius_shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        if self.generator is not None:
            draws = as_draws(self.generator)
            direction, radius = draws.randn(x.shape).to(x.device), draws.rand(radius_shape).to(x.device)
        else:
            direction, radius = torch.randn_like(x), torch.rand(radius_shape, device=x.device)
        return self.finish(x + direction / (l2_norms(direction) + TINY) * radius * self.eps)

    def project(self, x: torch.Tensor, x_adv: torch.Tensor) -> torch.Tensor:
        """Back onto the eps-ball around ``x`` (rescaling, only if outside), then into [0, 1]."""
        delta = x_adv - x
        delta = delta * (self.eps / (l2_norms(delta))).clamp(max=1.0)
        return self.finish(x + delta)

    def run_once(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x_adv = self.random_init(x)
        for _ in range(self.steps):
            _, grad = self.loss_and_grad(x_adv, y)
            x_adv = self.project(x, x_adv + self.step * grad / (l2_norms(grad) + TINY))
        return x_adv
