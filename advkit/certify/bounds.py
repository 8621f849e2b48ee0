"""Confidence bounds behind randomized smoothing's certificates (Cohen, Rosenfeld & Kolter 2019, sec. 3.2).

* :func:`lower_confidence_bound`: the one-sided (1 - alpha) Clopper-Pearson lower bound on a binomial proportion,
  ``p_lower = Beta.ppf(alpha; k, n - k + 1)`` (0 when k = 0): P(p_lower > p) <= alpha for every true p. It is the
  lower end of the two-sided exact interval at level 1 - 2 alpha (``binomtest(k, n).proportion_ci(1 - 2 alpha,
  method="exact")``), which is what Cohen et al.'s code computes with statsmodels.
* :func:`certified_radius`: ``R = sigma * Phi^-1(p_lower)`` (Theorem 1 with p_B <= 1 - p_A), or -1 (abstain)
  when ``p_lower <= 1/2``.
* :func:`predict_test`: PREDICT's two-sided binomial test of n_A against n_A + n_B at p = 1/2: answer only when its
  p-value is <= alpha (then g(x) = c_A with probability >= 1 - alpha, Cohen et al. Proposition 1).

    >>> lower_confidence_bound(9990, 10000, 0.001)      # ~0.9980
    >>> certified_radius(0.998, 0.25)                    # ~0.72
"""

from __future__ import annotations

import math

from scipy.stats import beta, binomtest, norm

ABSTAIN = -1


def lower_confidence_bound(successes: int, trials: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower bound on p from ``successes`` of ``trials`` Bernoulli(p) draws."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0; got {successes} of {trials}")
    if successes == 0:
        return 0.0
    return float(beta.ppf(alpha, successes, trials - successes + 1))


def certified_radius(p_lower: float, sigma: float) -> float:
    """sigma * Phi^-1(p_lower) when p_lower > 1/2, else -1 (abstain: no certificate)."""
    if p_lower <= 0.5:
        return float(ABSTAIN)
    return float(sigma * norm.ppf(p_lower))


def predict_test(count_a: int, count_b: int, alpha: float) -> bool:
    """PREDICT's test: True when the top class's lead is significant at level alpha (answer), False (abstain)."""
    if count_a + count_b == 0:
        return False
    return bool(binomtest(count_a, count_a + count_b, 0.5).pvalue <= alpha)


def max_radius(samples: int, alpha: float, sigma: float) -> float:
    """The largest radius ``samples`` draws can certify (every draw votes for c_A): sigma Phi^-1(alpha^(1/n))."""
    return certified_radius(math.exp(math.log(alpha) / samples), sigma)
