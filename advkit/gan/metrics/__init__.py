"""GAN evaluation: Frechet distance (FID), KID, precision / recall / density / coverage, Inception Score,
mode coverage, the combined report with its real-data floor, and the offline "domain" versions."""

from advkit.gan.metrics.frechet import feature_statistics, fid_from_features, frechet_distance
from advkit.gan.metrics.inception_score import inception_score
from advkit.gan.metrics.kid import kernel_inception_distance
from advkit.gan.metrics.modes import class_coverage, kl_to_uniform, ring_modes, stacked_mnist_modes
from advkit.gan.metrics.prdc import precision_recall_density_coverage
from advkit.gan.metrics.report import gan_metric_report

__all__ = ["class_coverage", "feature_statistics", "fid_from_features", "frechet_distance", "gan_metric_report",
           "inception_score", "kernel_inception_distance", "kl_to_uniform", "precision_recall_density_coverage",
           "ring_modes", "stacked_mnist_modes"]
