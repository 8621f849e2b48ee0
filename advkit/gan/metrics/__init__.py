"""GAN evaluation: Frechet distance (FID), Inception Score, mode coverage, and the offline "domain" versions."""

from advkit.gan.metrics.frechet import feature_statistics, fid_from_features, frechet_distance
from advkit.gan.metrics.inception_score import inception_score
from advkit.gan.metrics.modes import class_coverage, kl_to_uniform, ring_modes, stacked_mnist_modes

__all__ = ["class_coverage", "feature_statistics", "fid_from_features", "frechet_distance", "inception_score",
           "kl_to_uniform", "ring_modes", "stacked_mnist_modes"]
