"""Randomized smoothing: Cohen, Rosenfeld & Kolter 2019, "Certified Adversarial Robustness via Randomized
Smoothing", Algorithms CERTIFY and PREDICT (L2 norm).

The smoothed classifier of a base classifier f is g(x) = argmax_c P(f(x + delta) = c), delta ~ N(0, sigma^2 I).
CERTIFY draws n0 noisy copies to select the top class c_A, then n fresh copies to count its votes n_A, and
certifies g(x + e) = c_A for every ||e||_2 < R = sigma Phi^-1(p_A_lower), p_A_lower the one-sided (1 - alpha)
Clopper-Pearson bound on n_A / n; it abstains (-1) when p_A_lower <= 1/2. PREDICT answers the top class of n
copies when a binomial test of its lead over the runner-up passes at level alpha. Noise is added without
clipping to [0, 1], as in the paper: the certificate is about that smoothed classifier.

Reproducible noise: each point's draws come from a generator seeded from ``(seed, index)`` (the point's index
in the data set) and are drawn in fixed blocks of ``NOISE_BLOCK`` images, so a point's votes do not depend on
the batch size, on which other points are certified, or on the number of processes.

Shapes: one point ``x`` ``[C, H, W]`` (any range; MNIST in [0, 1]); the base classifier maps ``[B, C, H, W]``
to logits ``[B, K]``.

    >>> smooth = Smoothed(model, sigma=0.25, batch_size=1000, seed=0)
    >>> prediction, radius, count_a = smooth.certify(x, index=7, n0=100, n=10000, alpha=0.001)
    >>> smooth.predict(x, index=7, n=1000, alpha=0.001)     # a class, or -1 (abstain)
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch import nn

from advkit.certify.bounds import ABSTAIN, certified_radius, lower_confidence_bound, predict_test

NOISE_BLOCK = 250  # images per torch.randn call: fixed, so the draws do not depend on the batch size


def point_seed(seed: int, index: int, stream: int = 0) -> int:
    """A 63-bit seed for point ``index`` under run seed ``seed`` (numpy's SeedSequence mixes the pair)."""
    state = np.random.SeedSequence([int(seed), int(index), int(stream)]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def noise_blocks(shape: tuple[int, ...], num: int, generator: torch.Generator, device: torch.device
                 ) -> Iterator[torch.Tensor]:
    """N(0, I) noise for ``num`` images of ``shape``, in blocks of NOISE_BLOCK drawn on ``device``."""
    for start in range(0, num, NOISE_BLOCK):
        yield torch.randn((min(NOISE_BLOCK, num - start), *shape), generator=generator, device=device)


def noise_batches(shape: tuple[int, ...], num: int, batch_size: int, generator: torch.Generator,
                  device: torch.device) -> Iterator[torch.Tensor]:
    """The same draws as :func:`noise_blocks`, regrouped into batches of ``batch_size`` (the last may be smaller)."""
    pending: list[torch.Tensor] = []
    held = 0
    for block in noise_blocks(shape, num, generator, device):
        pending.append(block)
        held += block.shape[0]
        while held >= batch_size:
            joined = torch.cat(pending) if len(pending) > 1 else pending[0]
            yield joined[:batch_size]
            rest = joined[batch_size:]
            pending, held = ([rest] if rest.shape[0] else []), rest.shape[0]
    if held:
        yield torch.cat(pending) if len(pending) > 1 else pending[0]


class Smoothed:
    """The smoothed classifier of ``model`` at noise level ``sigma`` (see the module docstring)."""

    def __init__(self, model: nn.Module, sigma: float, batch_size: int = 1000, seed: int = 0):
        if sigma <= 0 or batch_size < 1:
            raise ValueError(f"sigma and batch_size must be positive; got {sigma}, {batch_size}")
        self.model, self.sigma, self.batch_size, self.seed = model, float(sigma), int(batch_size), int(seed)
        self.device = next((p.device for p in model.parameters()), torch.device("cpu"))

    def generator(self, index: int, stream: int = 0) -> torch.Generator:
        """The noise generator of point ``index`` (stream 0: CERTIFY / PREDICT; others for attacks)."""
        return torch.Generator(device=self.device).manual_seed(point_seed(self.seed, index, stream))

    @torch.inference_mode()
    def counts(self, x: torch.Tensor, num: int, generator: torch.Generator) -> torch.Tensor:
        """[K] int64: votes of f(x + sigma * noise) over ``num`` draws from ``generator``."""
        was_training = self.model.training
        self.model.eval()
        x = x.to(self.device)
        total = None
        try:
            for noise in noise_batches(tuple(x.shape), num, self.batch_size, generator, self.device):
                logits = self.model(noise.mul_(self.sigma).add_(x))
                votes = torch.bincount(logits.argmax(1), minlength=logits.shape[1])
                total = votes if total is None else total + votes
        finally:
            self.model.train(was_training)
        return total.cpu()

    def certify(self, x: torch.Tensor, index: int, n0: int, n: int, alpha: float) -> tuple[int, float, int]:
        """CERTIFY: (c_A or -1, radius (-1 when abstaining), n_A). Selection and estimation use separate draws."""
        g = self.generator(index)
        selection = self.counts(x, n0, g)
        c_a = int(selection.argmax())
        count_a = int(self.counts(x, n, g)[c_a])
        radius = certified_radius(lower_confidence_bound(count_a, n, alpha), self.sigma)
        return (c_a if radius >= 0 else ABSTAIN), radius, count_a

    def predict(self, x: torch.Tensor, index: int, n: int, alpha: float) -> int:
        """PREDICT: the top class of ``n`` draws if its lead over the runner-up is significant at alpha, else -1."""
        votes = self.counts(x, n, self.generator(index))
        top2 = votes.topk(2)
        count_a, count_b = int(top2.values[0]), int(top2.values[1])
        return int(top2.indices[0]) if predict_test(count_a, count_b, alpha) else ABSTAIN


def certified_accuracy(points: list[dict], radii: list[float]) -> dict[str, float]:
    """Fraction of points certified correct with radius >= r, for each r (keys formatted with :g)."""
    n = max(len(points), 1)
    return {f"{r:g}": sum(1 for p in points if p["correct"] and p["radius"] >= r) / n for r in radii}
