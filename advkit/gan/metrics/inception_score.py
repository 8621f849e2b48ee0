"""The Inception Score (Salimans et al. 2016) from a classifier's class probabilities.

    IS = exp( E_x KL( p(y|x) || p(y) ) ),   p(y) = E_x p(y|x)

High when each sample is classified confidently (sharp p(y|x)) and the classes are balanced (flat p(y));
its maximum is the number of classes. As in the paper, the N samples are split into ``splits`` groups and
the mean and (population) standard deviation over the groups are reported.

The samples are shuffled with a fixed seed before splitting, as torch-fidelity does (same permutation:
numpy's ``RandomState(2020).permutation(N)``, same group bounds ``i N // splits``): otherwise class-sorted
input (a conditional generator sampled label by label) puts one class in each group, every group's p(y)
is sharp and the score collapses to ~1. ``seed=None`` keeps the given order.

    >>> mean, std = inception_score(probs)          # probs [N, K], rows sum to 1
"""

from __future__ import annotations

import numpy as np
import torch

from advkit.errors import AdvkitError


def inception_score(probs: torch.Tensor, splits: int = 10, seed: int | None = 2020) -> tuple[float, float]:
    """(mean, std) over ``splits`` groups of the score of class probabilities ``[N, K]``, shuffled by ``seed``."""
    p = probs.detach().to(torch.float64)
    if p.dim() != 2 or p.shape[0] < splits or splits < 1:
        raise AdvkitError(f"the inception score needs probabilities [N, K] with N >= splits ({splits}) >= 1; "
                          f"got {tuple(p.shape)}")
    n = p.shape[0]
    if seed is not None:
        p = p[torch.from_numpy(np.random.RandomState(seed).permutation(n)).to(p.device)]
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        marginal = part.mean(0, keepdim=True)
        # xlogy: 0 * log 0 = 0, so confidently-zero classes do not produce NaN.
        kl = (torch.xlogy(part, part) - part * marginal.clamp_min(1e-300).log()).sum(1)
        scores.append(kl.mean().exp())
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False)) if len(scores) > 1 else 0.0
