"""FAB-T: the targeted Fast Adaptive Boundary attack (Croce & Hein 2020, "Minimally distorted adversarial examples
with a fast adaptive boundary attack", Algorithm 1; the targeted version AutoAttack runs), L-infinity and L2.

FAB walks towards the decision boundary between the true class ``y`` and a target ``t`` using its linearisation:
with ``f(x) = z_t(x) - z_y(x)`` and ``w = grad f(x_k)``, the boundary is approximately the hyperplane
``{z : <w, z - x_k> + f(x_k) = 0}``. Each step projects both the iterate and the clean image onto that hyperplane
(intersected with [0, 1]^d, in the attack's norm), and mixes the two moves so that the iterate stays close to the clean image:

    d_1 = proj(x_k) - x_k,   d_2 = proj(x_orig) - x_orig,   a = min(||d_1|| / (||d_1|| + ||d_2||), alpha_max)
    x_{k+1} = clip_[0,1]( (1 - a) (x_k + eta d_1) + a (x_orig + eta d_2) )          (eta = 1.05: overshoot)

and once ``x_{k+1}`` is misclassified it steps back towards the clean image, ``x_orig + beta (x_{k+1} - x_orig)``
(beta = 0.9). Targets are the clean image's ``n_target_classes`` (9) runner-up classes, one run each, on the points
still classified correctly. FAB minimises the distortion; as an eps-bounded attack here a point counts as fooled
at its first misclassified iterate within ``eps`` (where it stops); points it cannot fool come back unchanged.
Restarts after the first start at a random point of the half-eps ball, drawn from ``generator`` on the CPU.
The two projections are the authors' algorithms (fra31/auto-attack), equal to torchattacks' to the bit.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` int64 -> ``x_adv`` like ``x``, within ``eps`` of ``x``.

    >>> x_adv = FAB(model, eps=0.3)(x, y)                        # FAB-T, 100 iterations per target
    >>> x_adv = FAB(model, eps=1.5, norm="L2")(x, y)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from advkit.attacks.base import Attack
from advkit.attacks.randomness import Draws, as_draws
from advkit.errors import AdvkitError


def project_linf_onto_hyperplane_box(t: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per row of ``t`` [N, D]: the step ``d`` of least L-inf norm with ``<w, t + d> = b`` and ``t + d`` in [0, 1]^D
    (the whole way to the box's far corner when the hyperplane is out of reach). The authors' algorithm: every
    coordinate moves towards the face that brings ``<w, .>`` to ``b`` by ``min(lambda, its distance to that face)``;
    the smallest sufficient ``lambda`` is found by bisection over the sorted distances."""
    w, b = w.clone(), b.clone()
    sign = 2 * ((w * t).sum(1) - b >= 0) - 1  # orient the hyperplane so the move decreases <w, .>
    w.mul_(sign.unsqueeze(1))
    b.mul_(sign)
    face = (w < 0).float()                    # the face each coordinate moves to: 1 where w < 0, else 0
    d = (face - t) * (w != 0).float()         # the full move of each coordinate
    dist = face - t * (2 * face - 1)          # |face - t|: how far each coordinate can move
    order = torch.argsort(dist, dim=1)
    b = b - (w * t).sum(1)
    b0 = (w * d).sum(1)                       # the change in <w, .> of the full move
    far_first = order.flip((1,))
    w_sorted = w.gather(1, far_first)
    slope = torch.cumsum(w_sorted.abs(), dim=1)
    offset = torch.cumsum(-w_sorted * d.gather(1, far_first), dim=1) + b0.unsqueeze(1)
    b2 = offset[:, -1] - slope[:, -1] * dist.gather(1, order[:, 0:1]).squeeze(1)
    below_all = b - b2 > 0                    # lambda below every distance: all coordinates move by lambda
    inner = (b - b0 > 0) & ~below_all         # lambda between two distances: bisection
    low = torch.zeros(int(inner.sum()), device=t.device)
    high = torch.full_like(low, w.shape[1] - 1)
    order_, offset_, slope_, dist_, b_ = order[inner], offset[inner], slope[inner], dist[inner], b[inner]
    for _ in range(math.ceil(math.log2(w.shape[1]))):
        middle = torch.floor((low + high) / 2)
        column = middle.long().unsqueeze(1)
        current = order_.gather(1, order_.size(1) - 1 - column)
        b2 = (offset_.gather(1, column) - slope_.gather(1, column) * dist_.gather(1, current)).squeeze(1)
        above = b_ - b2 > 0
        low, high = torch.where(above, middle, low), torch.where(above, high, middle)
    low = low.long()
    if below_all.any():
        lam = torch.clamp_min((b[below_all] - offset[below_all, -1]) / (-slope[below_all, -1]), min=0).unsqueeze(-1)
        d[below_all] = (2 * face[below_all] - 1) * lam
    lam = torch.clamp_min((b[inner] - offset[inner, low]) / (-slope[inner, low]), min=0).unsqueeze(-1)
    d[inner] = torch.min(lam, d[inner]) * face[inner] + torch.max(-lam, d[inner]) * (1 - face[inner])
    return d * (w != 0).float()


def project_l2_onto_hyperplane_box(t: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per row of ``t`` [N, D]: the step ``d`` of least L2 norm with ``<w, t + d> = b`` and ``t + d`` in [0, 1]^D
    (as far as the box allows when the hyperplane is out of reach). The authors' algorithm: along ``-lambda w``
    coordinates leave the box one by one (at ``lambda = r_i``) and stay on its face; the ``lambda`` that reaches
    the hyperplane is found by bisection over the sorted ``r_i``."""
    w = w.clone()
    gap = (w * t).sum(1) - b
    sign = 2 * (gap >= 0) - 1  # orient the hyperplane so the move decreases <w, .>
    w.mul_(sign.unsqueeze(1))
    gap = gap * sign
    leave = torch.max(t / w, (t - 1) / w).clamp(min=-1e12, max=1e12)  # lambda at which each coordinate hits a face
    leave.masked_fill_(w.abs() < 1e-8, 1e12)
    leave[leave == -1e12] *= -1
    leave_sorted, order = torch.sort(leave, dim=1)
    leave_next = F.pad(leave_sorted[:, 1:], (0, 1))
    leave_sorted.masked_fill_(leave_sorted == 1e12, 0)
    leave_next.masked_fill_(leave_next == 1e12, 0)
    w2_sorted = (w ** 2).gather(1, order)
    w2_total = w2_sorted.sum(dim=1, keepdim=True)
    w2_free = w2_total - torch.cumsum(w2_sorted, dim=1)  # the weight of the coordinates still free
    d = -(leave * w)
    d.mul_((w.abs() > 1e-8).float())
    reach = torch.cat((-w2_total * leave_sorted[:, 0:1],
                       torch.cumsum((-leave_next + leave_sorted) * w2_free, dim=1) - w2_total * leave_sorted[:, 0:1]), 1)
    free_move = reach[:, 0] + gap < 0          # reached before any coordinate hits a face: d = -lambda w
    unreachable = (d * w).sum(dim=1) + gap > 0  # every coordinate on its face and still short
    inner = ~(free_move | unreachable)
    low = torch.zeros(int(inner.sum()), device=t.device)
    high = torch.full_like(low, w.shape[1] - 1)
    reach_, gap_ = reach[inner], gap[inner]
    for _ in range(math.ceil(math.log2(w.shape[1]))):
        middle = torch.floor((low + high) / 2)
        above = reach_.gather(1, middle.long().unsqueeze(1)).squeeze(1) + gap_ > 0
        low, high = torch.where(above, middle, low), torch.where(above, high, middle)
    low = low.long()
    if free_move.any():
        lam = gap[free_move] / w2_total[free_move].squeeze(-1)
        d[free_move] = -lam.unsqueeze(-1) * w[free_move]
    if inner.any():
        lam = (reach[inner, low] + gap[inner]) / w2_free[inner, low] + leave_sorted[inner, low]
        lam[w2_free[inner, low] == 0] = 0
        on_face = (lam.unsqueeze(-1) > leave[inner]).float()
        d[inner] = d[inner] * on_face - lam.unsqueeze(-1) * w[inner] * (1 - on_face)
    return d * (w.abs() > 1e-8).float()


class FAB(Attack):
    def __init__(self, model, eps: float, norm: str = "linf", n_iter: int = 100, n_target_classes: int = 9,
                 restarts: int = 1, alpha_max: float = 0.1, eta: float = 1.05, beta: float = 0.9,
                 generator: torch.Generator | Draws | None = None, amp: bool = False):
        super().__init__(model, eps, targeted=False, clip=True, amp=amp, norm=norm)
        if n_iter < 1 or restarts < 1 or n_target_classes < 1:
            raise AdvkitError(f"FAB needs n_iter, restarts and n_target_classes >= 1; got {n_iter}, {restarts}, "
                              f"{n_target_classes}")
        self.n_iter, self.n_target_classes, self.restarts = n_iter, n_target_classes, restarts
        self.alpha_max, self.eta, self.beta = alpha_max, eta, beta
        self.generator = generator  # None: the global CPU RNG

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x_adv = x.clone()
        if self.eps == 0:
            return x_adv
        with torch.no_grad():
            clean_logits = self.logits(x)
        robust = clean_logits.argmax(1) == y
        n_targets = min(self.n_target_classes, clean_logits.shape[1] - 1)
        draws = as_draws(self.generator)
        for rank in range(2, n_targets + 2):  # rank 2: the runner-up class of the clean image
            for restart in range(self.restarts):
                index = robust.nonzero()[:, 0]
                if index.numel() == 0:
                    return x_adv
                target = clean_logits[index].sort(dim=1)[1][:, -rank]
                adv, fooled = self.run_once(x[index], y[index], target, restart > 0, draws.subset(index))
                x_adv[index[fooled]] = adv[fooled]
                robust[index[fooled]] = False
        return x_adv

    def run_once(self, x0: torch.Tensor, y: torch.Tensor, target: torch.Tensor, random_start: bool,
                 draws: Draws | None = None):
        """(first misclassified iterate within eps, fooled) per point, after at most ``n_iter`` steps."""
        n, shape = x0.shape[0], (-1,) + (1,) * (x0.dim() - 1)
        out_adv, out_fooled = x0.clone(), torch.zeros(n, dtype=torch.bool, device=x0.device)
        x1 = x0.clone()
        if random_start:
            u = self.draw(x0.shape, draws if draws is not None else as_draws(self.generator)).to(x0.device)
            x1 = (x0 + self.eps * u / self.size(u).view(shape) * 0.5).clamp(0.0, 1.0)
        index = torch.arange(n, device=x0.device)
        for _ in range(self.n_iter):
            if index.numel() == 0:
                break
            m = index.numel()
            x1g = x1.detach().requires_grad_(True)
            logits = self.logits(x1g)
            gap = logits.gather(1, target[:, None])[:, 0] - logits.gather(1, y[:, None])[:, 0]  # f = z_t - z_y
            (grad,) = torch.autograd.grad(gap.sum(), x1g)
            with torch.no_grad():
                w = grad.flatten(1)
                b = -gap.detach() + (w * x1.flatten(1)).sum(1)
                project = project_linf_onto_hyperplane_box if self.norm == "linf" else project_l2_onto_hyperplane_box
                d = project(torch.cat((x1.flatten(1), x0.flatten(1))), torch.cat((w, w)), torch.cat((b, b)))
                size = self.size(d).clamp_min(1e-8).view(shape)
                alpha = (size[:m] / (size[:m] + size[m:])).clamp(0.0, self.alpha_max)
                d1, d2 = d[:m].view_as(x1), d[m:].view_as(x1)
                x1 = ((x1 + self.eta * d1) * (1 - alpha) + (x0 + d2 * self.eta) * alpha).clamp(0.0, 1.0)
                adversarial = self.logits(x1).argmax(1) != y
                within = self.size(x1 - x0) <= self.eps
                done = adversarial & within
                if done.any():
                    out_adv[index[done]], out_fooled[index[done]] = x1[done], True
                # The backward step: a misclassified iterate moves back towards the clean image.
                x1 = torch.where(adversarial.view(shape), x0 + (x1 - x0) * self.beta, x1)
                if done.any():
                    keep = (~done).nonzero()[:, 0]
                    index, x0, x1, y, target = index[keep], x0[keep], x1[keep], y[keep], target[keep]
        return out_adv, out_fooled

    def size(self, d: torch.Tensor) -> torch.Tensor:
        """Per-row norm of the attack."""
        d = d.flatten(1)
        return d.abs().amax(1) if self.norm == "linf" else (d ** 2).sum(1).sqrt()

    def draw(self, shape: torch.Size, draws: Draws) -> torch.Tensor:
        """A random direction: uniform in the cube (L-inf) or Gaussian (L2), as the authors draw it."""
        if self.norm == "linf":
            return 2 * draws.rand(shape) - 1
        return draws.randn(shape)
