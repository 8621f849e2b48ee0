"""KID, the Kernel Inception Distance (Binkowski, Sutherland, Arbel & Gretton 2018, "Demystifying MMD GANs").

KID is the squared maximum mean discrepancy between the feature distributions of real and generated images
under the cubic polynomial kernel

    k(x, y) = (x . y / d + 1)^3          (d = feature dimension)

estimated without bias (the diagonal terms of the within-set kernel matrices are left out):

    MMD^2 = [ sum_{i != j} k(x_i, x_j) + sum_{i != j} k(y_i, y_j) ] / (m (m - 1)) - 2 sum_{i,j} k(x_i, y_j) / m^2

Unlike FID it has an unbiased estimator, so its expectation is 0 for two samples of one distribution
(single estimates can be slightly negative) and small sample sizes do not inflate it. As in the paper and
torch-fidelity, the estimate is averaged over ``subsets`` random subsets of ``subset_size`` points drawn
without replacement from each side (defaults 100 and 1000, torch-fidelity's); the standard deviation over
the subsets is reported beside the mean. Arithmetic is float64; tensors stay on the features' device.

Shapes: ``features_real`` ``[N, D]``, ``features_fake`` ``[M, D]`` with N, M >= ``subset_size``.

    >>> mean, std = kernel_inception_distance(features_real, features_fake)        # seeded: repeatable
    >>> mmd2_polynomial(features_real[:500], features_fake[:500])                  # one estimate, no subsets
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, degree: int = 3, coef0: float = 1.0) -> torch.Tensor:
    """k(x_i, y_j) = (x_i . y_j / d + coef0)^degree for rows of ``x`` ``[N, D]`` and ``y`` ``[M, D]`` -> ``[N, M]``."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_polynomial(x: torch.Tensor, y: torch.Tensor) -> float:
    """The unbiased MMD^2 estimate between two equally sized samples ``[m, D]`` under the cubic kernel."""
    x, y = x.detach().to(torch.float64), y.detach().to(torch.float64)
    m = x.shape[0]
    if y.shape[0] != m or m < 2:
        raise AdvkitError(f"the unbiased MMD needs two samples of equal size >= 2; got {x.shape[0]} and {y.shape[0]}")
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kernel_inception_distance(features_real: torch.Tensor, features_fake: torch.Tensor, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD^2 over ``subsets`` random subsets of ``subset_size`` points per side."""
    real, fake = features_real.reshape(features_real.shape[0], -1), features_fake.reshape(features_fake.shape[0], -1)
    if real.shape[1] != fake.shape[1]:
        raise AdvkitError(f"real and generated features differ in dimension ({real.shape[1]} vs {fake.shape[1]}): "
                          "both sides must use the same feature extractor")
    if subsets < 1 or subset_size < 2:
        raise AdvkitError(f"KID needs subsets >= 1 and subset_size >= 2; got {subsets} and {subset_size}")
    if min(len(real), len(fake)) < subset_size:
        raise AdvkitError(f"KID subsets of {subset_size} need at least as many samples per side; got {len(real)} real "
                          f"and {len(fake)} generated (lower subset_size or raise --n)")
    # Subsets are drawn on the CPU with their own generator: the same seed picks the same points on any device.
    g = torch.Generator().manual_seed(seed)
    estimates = []
    for _ in range(subsets):
        pick_real = torch.randperm(len(real), generator=g)[:subset_size].to(real.device)
        pick_fake = torch.randperm(len(fake), generator=g)[:subset_size].to(fake.device)
        estimates.append(mmd2_polynomial(real[pick_real], fake[pick_fake]))
    values = torch.tensor(estimates, dtype=torch.float64)
    return float(values.mean()), float(values.std(unbiased=False))  # population std, as torch-fidelity's np.std
