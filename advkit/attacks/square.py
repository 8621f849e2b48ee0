"""Square Attack: random search over squares, no gradients at all (Andriushchenko, Croce, Flammarion & Hein 2020,
"Square Attack: a query-efficient black-box adversarial attack via random search", Algorithms 2 and 3).

L-infinity:

    x_0 = clip_[0,1](x + eps * s),  s in {-1, +1} per channel and column      (vertical stripes)
    each query: pick a random s x s window and a random sign per channel; set the window to x +- eps;
                keep the new image if it lowers the margin  z_y - max_{i != y} z_i  (or fools the model)

L2: the perturbation always has norm eps. It starts as a 5 x 5 grid of tiles, each holding the paper's "eta"
pattern (two opposite-signed stacks of nested rectangles) with a random sign per channel; each query moves the
perturbation mass of a second random window into a first one, where a fresh eta pattern with random signs is added
to what was there, rescaled so the total norm stays eps.

The window side shrinks with the query count: ``s = round(sqrt(p h w))`` where ``p`` starts at ``p_init`` (0.8, as
AutoAttack) and halves after 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10000 queries (the paper's
schedule, stretched to ``n_queries``; L2 windows have an odd side of at least 3). Only the model's outputs are used
(under ``torch.no_grad``), so it sees through gradient masking: a model whose backward is broken or useless is
attacked just as well.

Each point is searched on its own (its own windows, signs and pattern orientations, drawn from ``generator`` on the
CPU, or from the point's own stream with a PointDraws; the authors' batched code shares one window per query across
the batch) and stops at its first success; the others get their lowest-margin image. ``targeted=True`` lowers ``max_{i != t} z_i - z_t``.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]`` int64 -> ``x_adv`` like ``x``, within ``eps`` of ``x``.

    >>> x_adv = Square(model, eps=0.3, n_queries=5000)(x, y)
    >>> x_adv = Square(model, eps=2.0, norm="L2", generator=torch.Generator().manual_seed(0))(x, y)
"""

from __future__ import annotations

import math

import torch

from advkit.attacks.base import Attack
from advkit.attacks.randomness import Draws, as_draws
from advkit.errors import AdvkitError

# The paper's schedule for 10000 queries: p halves after each of these query counts.
P_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


class Square(Attack):
    def __init__(self, model, eps: float, norm: str = "linf", n_queries: int = 5000, p_init: float = 0.8,
                 restarts: int = 1, targeted: bool = False, generator: torch.Generator | Draws | None = None,
                 amp: bool = False):
        super().__init__(model, eps, targeted=targeted, clip=True, amp=amp, norm=norm)
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
            draws = as_draws(self.generator)
            for _ in range(self.restarts):
                index = (best > 0).nonzero()[:, 0]
                if index.numel() == 0:
                    break
                adv, margin = self.run_once(x[index], y[index], draws.subset(index))
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

    @staticmethod
    def signs(shape: tuple[int, ...], device: torch.device, draws: Draws) -> torch.Tensor:
        return (2.0 * draws.randint(2, shape) - 1.0).to(device)

    def run_once(self, x: torch.Tensor, y: torch.Tensor,
                 draws: Draws | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(best image, its margin) per point after at most ``n_queries`` queries."""
        draws = draws if draws is not None else as_draws(self.generator)
        x_best = self.linf_start(x, draws) if self.norm == "linf" else self.l2_start(x, draws)
        margin = self.margin(self.logits(x_best), y)
        out_adv, out_margin = x_best.clone(), margin.clone()
        active = (margin > 0).nonzero()[:, 0]
        x_act, y_act, best_act, margin_act = x[active], y[active], x_best[active], margin[active]
        draws_act = draws.subset(active)
        for query in range(self.n_queries):
            if active.numel() == 0:
                break
            propose = self.linf_proposal if self.norm == "linf" else self.l2_proposal
            x_new = propose(x_act, best_act, self.window_fraction(query), draws_act)
            margin_new = self.margin(self.logits(x_new), y_act)
            improved = margin_new < margin_act
            best_act = torch.where(improved.view(-1, 1, 1, 1), x_new, best_act)
            margin_act = torch.where(improved, margin_new, margin_act)
            done = margin_act <= 0
            if done.any():  # record the successes and stop querying for them
                out_adv[active[done]], out_margin[active[done]] = best_act[done], margin_act[done]
                keep = (~done).nonzero()[:, 0]
                active, x_act, y_act, draws_act = active[keep], x_act[keep], y_act[keep], draws_act.subset(keep)
                best_act, margin_act = best_act[keep], margin_act[keep]
        out_adv[active], out_margin[active] = best_act, margin_act
        return out_adv, out_margin

    # ------------------------------------------------------------------ L-infinity
    def linf_start(self, x: torch.Tensor, draws: Draws) -> torch.Tensor:
        n, c, _, w = x.shape
        return (x + self.eps * self.signs((n, c, 1, w), x.device, draws)).clamp(0.0, 1.0)

    def linf_proposal(self, x: torch.Tensor, best: torch.Tensor, p: float, draws: Draws) -> torch.Tensor:
        m, c, h, w = x.shape
        side = min(max(int(round(math.sqrt(p * h * w))), 1), h, w)
        window = self.window(m, side, h, w, x.device, draws)
        # The window moves to a vertex of the eps ball: x +- eps, one sign per channel.
        return torch.where(window, x + self.eps * self.signs((m, c, 1, 1), x.device, draws), best).clamp(0.0, 1.0)

    # ------------------------------------------------------------------ L2
    def l2_start(self, x: torch.Tensor, draws: Draws) -> torch.Tensor:
        n, c, h, w = x.shape
        side = max(h // 5, 1)
        delta = torch.zeros_like(x)
        first = (h - side * 5) // 2
        for top in range(first, first + side * (h // side), side):
            for left in range(first, first + side * (w // side), side):
                tile = delta[:, :, top:top + side, left:left + side]
                # The pattern's orientation, drawn per tile as the authors do, and per image (each its own search).
                pattern = eta(side, x.device)
                turned = draws.randint(2, (n,)).bool().to(x.device).view(n, 1, 1)
                pattern = torch.where(turned, pattern.t(), pattern)[:, :tile.shape[2], :tile.shape[3]]
                tile += pattern[:, None] * self.signs((n, c, 1, 1), x.device, draws)
        return (x + self.eps * normalized(delta)).clamp(0.0, 1.0)

    def l2_proposal(self, x: torch.Tensor, best: torch.Tensor, p: float, draws: Draws) -> torch.Tensor:
        m, c, h, w = x.shape
        side = max(int(round(math.sqrt(p * h * w))), 3)
        side = min(side + 1 - side % 2, h, w)  # odd, so the eta pattern has a centre
        delta = best - x
        into, out_of = self.window(m, side, h, w, x.device, draws), self.window(m, side, h, w, x.device, draws)
        norm_into = (delta ** 2 * into).sum((2, 3), keepdim=True).sqrt()           # per channel
        norm_image = l2(delta)
        norm_both = l2(delta * (into | out_of))
        # A fresh eta pattern (random orientation per image, random sign per channel) plus the window's old content.
        pattern = eta(side, x.device)
        fresh = torch.where(draws.randint(2, (m,)).bool().to(x.device).view(m, 1, 1), pattern.t(), pattern)
        new = self.place(fresh, into, side) * self.signs((m, c, 1, 1), x.device, draws)
        new = new + delta * into / (norm_into + 1e-12)
        # Rescaled so the window holds the mass of both windows plus whatever the total budget has left.
        mass = ((self.eps ** 2 - norm_image ** 2).clamp(min=0) / c + norm_both ** 2).sqrt()
        new = new / ((new ** 2).sum((2, 3), keepdim=True).sqrt() + 1e-12) * mass
        delta = torch.where(into, new, torch.where(out_of, torch.zeros_like(delta), delta))
        return (x + self.eps * normalized(delta)).clamp(0.0, 1.0)

    # ------------------------------------------------------------------ random draws and windows
    @staticmethod
    def window(m: int, side: int, h: int, w: int, device: torch.device, draws: Draws) -> torch.Tensor:
        """A random side x side window per image, as a [m, 1, h, w] mask (every position fully inside)."""
        top, left = draws.randint(h - side + 1, (m,)).to(device), draws.randint(w - side + 1, (m,)).to(device)
        rows, cols = torch.arange(h, device=device), torch.arange(w, device=device)
        in_rows = (rows >= top[:, None]) & (rows < top[:, None] + side)
        in_cols = (cols >= left[:, None]) & (cols < left[:, None] + side)
        return in_rows[:, None, :, None] & in_cols[:, None, None, :]

    @staticmethod
    def place(patterns: torch.Tensor, window: torch.Tensor, side: int) -> torch.Tensor:
        """Each image's [side, side] pattern written into its window: [m, 1, h, w], zero outside."""
        m, _, h, w = window.shape
        rows = window.any(3)[:, 0].float().argmax(1)   # each window's top row and left column
        cols = window.any(2)[:, 0].float().argmax(1)
        r = (torch.arange(h, device=window.device) - rows[:, None]).clamp(0, side - 1)
        k = (torch.arange(w, device=window.device) - cols[:, None]).clamp(0, side - 1)
        full = patterns[torch.arange(m, device=window.device)[:, None, None], r[:, :, None], k[:, None, :]]
        return full[:, None] * window


def l2(delta: torch.Tensor) -> torch.Tensor:
    return (delta ** 2).flatten(1).sum(1).sqrt().view(-1, 1, 1, 1)


def normalized(delta: torch.Tensor) -> torch.Tensor:
    return delta / (l2(delta) + 1e-12)


def nested_rectangles(rows: int, cols: int, device: torch.device) -> torch.Tensor:
    """Concentric rectangles around the centre, ring k weighted 1/(k+1)^2 summed inward; unit L2 norm."""
    r = (torch.arange(rows, device=device) - rows // 2).abs()
    c = (torch.arange(cols, device=device) - cols // 2).abs()
    ring = torch.maximum(r[:, None], c[None, :])
    # A pixel on ring k lies inside the rectangles k, k+1, ...: the sum of 1/(j+1)^2 for j >= k.
    n_rings = max(rows // 2 + 1, cols // 2 + 1)
    weights = 1.0 / (torch.arange(n_rings, device=device, dtype=torch.float32) + 1) ** 2
    tail = weights.flip(0).cumsum(0).flip(0)
    pattern = tail[ring]
    return pattern / (pattern ** 2).sum().sqrt()


def eta(side: int, device: torch.device) -> torch.Tensor:
    """The paper's L2 window pattern: rectangles of one sign in the top half, of the other in the bottom half."""
    pattern = torch.cat((nested_rectangles(side // 2, side, device), -nested_rectangles(side - side // 2, side, device)))
    return pattern / (pattern ** 2).sum().sqrt()
