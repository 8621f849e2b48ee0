"""Square Attack: random search over squares, no gradients at all (Andriushchenko, Croce, Flammarion & Hein 2020,
"Square Attack: a query-efficient black-box adversarial attack via random search", Algorithm 1, L-infinity).

    x_0 = clip_[0,1](x + eps * s),  s in {-1, +1} per channel and column      (vertical stripes)
    each query: pick a random s x s window and a random sign per channel; set the window to x +- eps;
                keep the new image if it lowers the margin  z_y - max_{i != y} z_i  (or fools the model)

The window side shrinks with the query count: ``s = round(sqrt(p h w))`` where ``p`` starts at ``p_init`` (0.8, as
AutoAttack) and halves after 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10000 queries (the paper's
schedule, stretched to ``n_queries``). Only the model's outputs are used (under ``torch.no_grad``), so it sees
through gradient masking: a model whose backward is broken or useless is attacked just as well.

Each point is searched on its own (its own windows and signs, drawn from ``generator`` on the CPU) and stops at
its first success; the others get their lowest-margin image. ``targeted=True`` lowers ``max_{i != t} z_i - z_t``.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` int64 -> ``x_adv`` like ``x``, within ``eps`` of ``x`` in L-inf.

    >>> x_adv = Square(model, eps=0.3, n_queries=5000)(x, y)
    >>> x_adv = Square(model, eps=8 / 255, generator=torch.Generator().manual_seed(0))(x, y)
"""

from __future__ import annotations

import math

import torch

from advkit.attacks.base import Attack
from advkit.errors import AdvkitError

# The paper's schedule for 10000 queries: p halves after each of these query counts.
P_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


class Square(Attack):
    def __init__(self, model, eps: float, n_queries: int = 5000, p_init: float = 0.8, restarts: int = 1,
                 targeted: bool = False, generator: torch.Generator | None = None, amp: bool = False):
        super().__init__(model, eps, targeted=targeted, clip=True, amp=amp, norm="Linf")
        if n_queries < 1 or restarts < 1 or not 0 < p_init <= 1:
            raise AdvkitError(f"Square needs n_queries >= 1, restarts >= 1 and 0 < p_init <= 1; got {n_queries}, "
                              f"{restarts}, {p_init}")
        self.n_queries, self.p_init, self.restarts = n_queries, p_init, restarts
        self.generator = generator  # None: the global CPU RNG

    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise AdvkitError(f"Square attacks images [B, C, H, W]; got shape {tuple(x.shape)}")
        x_adv = x.clone()
        if self.eps == 0:
            return x_adv
        with torch.no_grad():
            margin = self.margin(self.logits(x), y)
            best = margin.clone()
            for _ in range(self.restarts):
                index = (best > 0).nonzero()[:, 0]
                if index.numel() == 0:
                    break
                adv, margin = self.run_once(x[index], y[index])
                better = margin < best[index]
                x_adv[index[better]], best[index[better]] = adv[better], margin[better]
        return x_adv

    def margin(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """z_y - max_{i != y} z_i (untargeted) or max_{i != t} z_i - z_t (targeted): <= 0 means fooled."""
        z_y = logits.gather(1, y[:, None])[:, 0]
        others = logits.scatter(1, y[:, None], -float("inf")).amax(1)
        return others - z_y if self.targeted else z_y - others

    def window_fraction(self, query: int) -> float:
        """p: the fraction of the image a window covers at this query (the paper's schedule, rescaled)."""
        progress = int(query / self.n_queries * 10000)
        return self.p_init / 2 ** sum(progress > q for q in P_HALVINGS)

    def signs(self, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
        draw = torch.randint(0, 2, shape, generator=self.generator) if self.generator is not None \
            else torch.randint(0, 2, shape)
        return (2.0 * draw - 1.0).to(device)

    def corners(self, n: int, span: int, device: torch.device) -> torch.Tensor:
        draw = torch.randint(0, span, (n,), generator=self.generator) if self.generator is not None \
            else torch.randint(0, span, (n,))
        return draw.to(device)

    def run_once(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(best image, its margin) per point after at most ``n_queries`` queries."""
        n, c, h, w = x.shape
        x_best = (x + self.eps * self.signs((n, c, 1, w), x.device)).clamp(0.0, 1.0)
        margin = self.margin(self.logits(x_best), y)
        out_adv, out_margin = x_best.clone(), margin.clone()
        active = (margin > 0).nonzero()[:, 0]
        x_act, y_act, best_act, margin_act = x[active], y[active], x_best[active], margin[active]
        rows, cols = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
        for query in range(self.n_queries):
            m = active.numel()
            if m == 0:
                break
            side = min(max(int(round(math.sqrt(self.window_fraction(query) * h * w))), 1), h, w)
            top, left = self.corners(m, h - side + 1, x.device), self.corners(m, w - side + 1, x.device)
            in_rows = (rows >= top[:, None]) & (rows < top[:, None] + side)
            in_cols = (cols >= left[:, None]) & (cols < left[:, None] + side)
            window = in_rows[:, None, :, None] & in_cols[:, None, None, :]
            # The window moves to a vertex of the eps ball: x +- eps, one sign per channel.
            x_new = torch.where(window, x_act + self.eps * self.signs((m, c, 1, 1), x.device), best_act).clamp(0.0, 1.0)
            margin_new = self.margin(self.logits(x_new), y_act)
            improved = margin_new < margin_act
            best_act = torch.where(improved.view(-1, 1, 1, 1), x_new, best_act)
            margin_act = torch.where(improved, margin_new, margin_act)
            done = margin_act <= 0
            if done.any():  # record the successes and stop querying for them
                out_adv[active[done]], out_margin[active[done]] = best_act[done], margin_act[done]
                keep = (~done).nonzero()[:, 0]
                active, x_act, y_act = active[keep], x_act[keep], y_act[keep]
                best_act, margin_act = best_act[keep], margin_act[keep]
        out_adv[active], out_margin[active] = best_act, margin_act
        return out_adv, out_margin
