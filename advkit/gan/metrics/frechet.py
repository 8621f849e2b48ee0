"""The Frechet distance between two Gaussians, the core of FID (Heusel et al. 2017), in float64.

    d^2 = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})

FID fits a Gaussian (mean ``[D]``, covariance ``[D, D]``) to the features of real and of generated images
and reports this distance. Tr((S_1 S_2)^{1/2}) is computed without a general matrix square root:
S_1 S_2 is similar to the symmetric PSD matrix A = S_1^{1/2} S_2 S_1^{1/2}, so the trace is the sum of the
square roots of A's eigenvalues (two symmetric eigendecompositions, stable, float64 throughout).

    >>> mu, sigma = feature_statistics(features_real)           # features [N, D]
    >>> frechet_distance(mu, sigma, *feature_statistics(features_fake))
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean [D], unbiased covariance [D, D]) of features ``[N, D]``, in float64."""
    f = features.detach().to(torch.float64).reshape(features.shape[0], -1)
    if f.shape[0] < 2:
        raise AdvkitError(f"FID needs at least 2 samples; got {f.shape[0]} (raise --n)")
    mu = f.mean(0)
    centred = f - mu
    return mu, centred.T @ centred / (f.shape[0] - 1)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    # Round-off can make zero eigenvalues of a PSD matrix slightly negative: clamp before the root.
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2) (float64 arithmetic)."""
    mu1, mu2, sigma1, sigma2 = (t.to(torch.float64) for t in (mu1, mu2, sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise AdvkitError(f"feature statistics disagree in shape ({tuple(mu1.shape)} vs {tuple(mu2.shape)}): "
                          "both sides must use the same feature extractor")
    root1 = _sqrt_psd((sigma1 + sigma1.T) / 2)
    inner = root1 @ sigma2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp_min(0).sqrt().sum()
    diff = mu1 - mu2
    return float(diff @ diff + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt)


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    return frechet_distance(*feature_statistics(real), *feature_statistics(fake))
