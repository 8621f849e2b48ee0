"""Every GAN metric at once, for the generated samples and for the real-data floor beside them.

A number alone does not say how good a generator is: FID and KID depend on the sample size and the feature
extractor, and precision / recall / density / coverage on k and the data. So each metric is also computed
for a *real* held-out split of the same size n against the same reference: the "floor", what a perfect
generator (one that samples the data distribution) would score with these samples. Fidelity (precision,
density) and diversity (recall, coverage) are reported apart, so a collapsed generator that repeats a few
good images is caught (high precision, near-zero recall and coverage) even when its FID looks moderate.

    fid                 Frechet distance (Heusel et al. 2017)                       frechet.py
    kid_mean, kid_std   unbiased polynomial-kernel MMD^2 (Binkowski et al. 2018)    kid.py
    precision, recall   k-NN manifolds (Kynkaanniemi et al. 2019)                   prdc.py
    density, coverage   k-NN balls around real samples (Naeem et al. 2020)          prdc.py
    is_mean, is_std     Inception Score of the class probabilities (Salimans 2016)  inception_score.py

The reference and held-out real splits, and the classifier that makes the features, must all be disjoint
from the data the GAN trained on (see advkit.data.splits); the reference and held-out split from one
another (e.g. two halves of a test set). KID uses subsets of min(kid_subset_size, n, n_reference) points,
the same subsets (same seed) for the fake set and for the floor.

Shapes: features ``[n, D]`` (fake and held-out), ``[n_reference, D]`` (reference); probabilities ``[n, K]``.

    >>> report = gan_metric_report(feats_fake, feats_ref, feats_heldout, probs_fake, probs_heldout)
    >>> report["fake"]["recall"], report["real_floor"]["recall"], report["is_ratio"]
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError
from advkit.gan.metrics.frechet import feature_statistics, frechet_distance
from advkit.gan.metrics.inception_score import inception_score
from advkit.gan.metrics.kid import kernel_inception_distance
from advkit.gan.metrics.prdc import kth_neighbour_distances, precision_recall_density_coverage


def gan_metric_report(features_fake: torch.Tensor, features_real_ref: torch.Tensor,
                      features_real_heldout: torch.Tensor, probs_fake: torch.Tensor | None = None,
                      probs_real_heldout: torch.Tensor | None = None, k: int = 5, kid_subsets: int = 100,
                      kid_subset_size: int = 1000, is_splits: int = 10, seed: int = 0,
                      chunk_size: int = 512) -> dict:
    """{"fake": metrics, "real_floor": metrics, "is_ratio": IS fake / IS real, "n", "n_reference", "k", ...}."""
    n, n_ref = len(features_fake), len(features_real_ref)
    if len(features_real_heldout) != n:
        raise AdvkitError(f"the real floor needs a held-out split as large as the generated set ({n}); got "
                          f"{len(features_real_heldout)} (use the same n for both)")
    if (probs_fake is None) != (probs_real_heldout is None):
        raise AdvkitError("the Inception Score needs class probabilities for both the generated and the held-out real "
                          "samples (give both or neither)")
    if probs_fake is not None and (len(probs_fake) != n or len(probs_real_heldout) != n):
        raise AdvkitError(f"class probabilities must hold one row per sample ({n}); got {len(probs_fake)} and "
                          f"{len(probs_real_heldout)}")
    reference_stats = feature_statistics(features_real_ref)
    real_radii = kth_neighbour_distances(features_real_ref.detach().reshape(n_ref, -1).double(), k, chunk_size)
    subset_size = min(kid_subset_size, n, n_ref)

    def metrics(features: torch.Tensor, probs: torch.Tensor | None) -> dict:
        kid_mean, kid_std = kernel_inception_distance(features_real_ref, features, kid_subsets, subset_size, seed)
        out = {"fid": frechet_distance(*reference_stats, *feature_statistics(features)),
               "kid_mean": kid_mean, "kid_std": kid_std,
               **precision_recall_density_coverage(features_real_ref, features, k, chunk_size, real_radii)}
        if probs is not None:
            out["is_mean"], out["is_std"] = inception_score(probs, is_splits)
        return out

    report = {"fake": metrics(features_fake, probs_fake),
              "real_floor": metrics(features_real_heldout, probs_real_heldout),
              "n": n, "n_reference": n_ref, "k": k, "kid_subsets": kid_subsets, "kid_subset_size": subset_size}
    if probs_fake is not None:
        report["is_ratio"] = report["fake"]["is_mean"] / report["real_floor"]["is_mean"]
    return report
