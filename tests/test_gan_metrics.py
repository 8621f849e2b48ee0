"""FID's Frechet distance against scipy, the Inception Score on known distributions, mode counting on
planted samples, Stacked MNIST construction, and the shipped domain classifier on real MNIST."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from advkit.data.tensors import TensorData
from advkit.data.toy import Ring
from advkit.gan.metrics import (class_coverage, feature_statistics, frechet_distance, inception_score, kl_to_uniform,
                                ring_modes, stacked_mnist_modes)

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics

scipy_linalg = pytest.importorskip("scipy.linalg", reason="scipy (the test extra) gives the reference FID")


def _scipy_frechet(mu1, s1, mu2, s2) -> float:
    """The reference formula, as pytorch-fid writes it: a general matrix square root of S1 S2."""
    covmean = scipy_linalg.sqrtm(s1 @ s2)
    covmean = covmean.real if np.iscomplexobj(covmean) else covmean
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("dim,n,shift", [(8, 400, 0.3), (64, 2000, 1.0), (16, 50, 0.0)])
def test_frechet_distance_matches_scipy_in_float64(dim, n, shift):
    g = torch.Generator().manual_seed(dim)
    mixing = torch.randn(dim, dim, generator=g, dtype=torch.float64)
    a = torch.randn(n, dim, generator=g, dtype=torch.float64)
    b = torch.randn(n, dim, generator=g, dtype=torch.float64) @ mixing * 0.5 + shift
    (mu1, s1), (mu2, s2) = feature_statistics(a), feature_statistics(b)
    ours = frechet_distance(mu1, s1, mu2, s2)
    reference = _scipy_frechet(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy())
    # our sqrtm (eigendecomposition) vs scipy's (Schur) in float64 on well-conditioned 10x10 covariances: agree to
    # ~1e-10; 1e-6 is loose on purpose for LAPACK differences
    assert abs(ours - reference) / reference <= 1e-6
    # the same float64 covariance (allclose's 1e-5 relative is spare)
    assert np.allclose(s1.numpy(), np.cov(a.numpy(), rowvar=False))  # unbiased covariance, as numpy's


def test_frechet_distance_of_identical_gaussians_is_zero_and_of_shifted_ones_the_shift():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(500, 10, generator=g, dtype=torch.float64)
    mu, s = feature_statistics(a)
    # float64 (eps 2.2e-16) closed form, a few dozen operations: 1e-9 bounds the rounding
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-9
    # float64 (eps 2.2e-16) closed form, a few dozen operations: 1e-9 bounds the rounding
    assert frechet_distance(mu, s, mu + 2.0, s) == pytest.approx(10 * 4.0, rel=1e-9)  # ||shift||^2


def test_inception_score_extremes():
    k = 10
    confident_balanced = torch.eye(k).repeat(50, 1)          # sharp and balanced in every split: IS = K
    # float64 (eps 2.2e-16) closed form, a few dozen operations: 1e-9 bounds the rounding
    assert inception_score(confident_balanced, seed=None)[0] == pytest.approx(k, rel=1e-9)
    collapsed = torch.zeros(500, k)
    collapsed[:, 3] = 1                                       # one class only: IS = 1
    # float64 (eps 2.2e-16) closed form, a few dozen operations: 1e-9 bounds the rounding
    assert inception_score(collapsed)[0] == pytest.approx(1.0, abs=1e-9)
    assert inception_score(torch.full((500, k), 1 / k))[0] == pytest.approx(1.0, abs=1e-9)  # no confidence
    half = torch.eye(k)[torch.arange(500) % 5]               # 5 classes, sharp: IS = 5
    # float64 (eps 2.2e-16) closed form, a few dozen operations: 1e-9 bounds the rounding
    assert inception_score(half, seed=None)[0] == pytest.approx(5.0, rel=1e-9)


def test_ring_mode_counting_on_planted_samples():
    ring, g = Ring(), torch.Generator().manual_seed(0)
    x, _ = ring.sample(4000, g)
    full = ring_modes(x, ring.centers, ring.std)
    assert full["modes"] == 8 and full["high_quality"] > 0.98  # 3 std holds 98.9% of a 2-D Gaussian
    # Plant: 3 modes only, plus 25% junk at the origin (far from every centre).
    keep = x[_ < 3][:1500]
    junk = torch.zeros(500, 2)
    planted = ring_modes(torch.cat([keep, junk]), ring.centers, ring.std)
    assert planted["modes"] == 3
    # a planted fraction of 2D samples in balls: sampling error ~sqrt(p(1-p)/n) ~ 0.01 at n ~ 2000: 0.02
    assert planted["high_quality"] == pytest.approx(0.75 * (full["high_quality"]), abs=0.02)
    assert sum(planted["per_mode"][3:]) == 0
    # A handful of strays near a 4th mode does not count as capturing it (less than 1% of the samples).
    strays = ring.centers[5].repeat(5, 1)
    assert ring_modes(torch.cat([keep, junk, strays]), ring.centers, ring.std)["modes"] == 3


def test_class_coverage_and_kl():
    uniform = class_coverage(torch.arange(1000) % 10)
    # counts exactly equal: log(1) terms are exactly 0 up to one float64 rounding
    assert uniform["classes_covered"] == 10 and uniform["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    collapsed = class_coverage(torch.full((1000,), 7))
    # float64 closed forms here and below (approx's 1e-6 relative is spare)
    assert collapsed["classes_covered"] == 1 and collapsed["kl_to_uniform"] == pytest.approx(math.log(10))
    two = class_coverage(torch.tensor([0] * 500 + [1] * 500))
    assert two["kl_to_uniform"] == pytest.approx(math.log(10) - math.log(2))
    assert kl_to_uniform(torch.tensor([1.0, 1.0, 2.0])) == pytest.approx(
        0.25 * math.log(0.75) + 0.25 * math.log(0.75) + 0.5 * math.log(1.5))


def test_stacked_mnist_modes_and_data():
    from advkit.data.stacked_mnist import stacked_mnist

    digits = torch.stack(torch.meshgrid(torch.arange(10), torch.arange(10), torch.arange(10), indexing="ij"), -1).view(-1, 3)
    every = stacked_mnist_modes(digits)
    # exactly uniform counts: float64 log(1) terms
    assert every["modes"] == 1000 and every["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert stacked_mnist_modes(digits[:10].repeat(100, 1))["modes"] == 10
    # The KL splits into channel imbalance + dependence. Blue = red: 100 modes, balanced channels, so the whole
    # KL log(1000) - log(100) is dependence; red fixed to 0: 100 modes, all of it red's imbalance.
    tied = stacked_mnist_modes(torch.stack([digits[:, 0], digits[:, 1], digits[:, 0]], 1))
    assert tied["modes"] == 100 and tied["kl_channels"] == pytest.approx([0.0] * 3, abs=1e-12)
    assert tied["kl_dependence"] == pytest.approx(math.log(10))
    fixed = stacked_mnist_modes(torch.stack([torch.zeros_like(digits[:, 0]), digits[:, 1], digits[:, 2]], 1))
    assert fixed["kl_channels"] == pytest.approx([math.log(10), 0.0, 0.0])
    assert fixed["kl_to_uniform"] == pytest.approx(math.log(10)) and fixed["kl_dependence"] == pytest.approx(0.0, abs=1e-12)
    # Random channels: dependence >= 0 and the parts add up.
    noisy = stacked_mnist_modes(torch.randint(10, (500, 3), generator=torch.Generator().manual_seed(0)))
    assert noisy["kl_dependence"] >= 0
    assert sum(noisy["kl_channels"]) + noisy["kl_dependence"] == pytest.approx(noisy["kl_to_uniform"])
    # Construction: each channel is a real digit; the label is 100 d_R + 10 d_G + d_B.
    base = TensorData(torch.arange(10.0)[:, None, None, None].expand(10, 1, 4, 4) / 10, torch.arange(10), "x/train", "toy")
    data = stacked_mnist(base, n=200, seed=0)
    assert data.images.shape == (200, 3, 4, 4) and data.num_classes == 1000
    recovered = (data.images[:, :, 0, 0] * 10).round().long()
    assert torch.equal(recovered[:, 0] * 100 + recovered[:, 1] * 10 + recovered[:, 2], data.labels)


@pytest.fixture(scope="module")
def mnist_test():
    from advkit.data import load_dataset
    from advkit.errors import AdvkitError

    try:
        return load_dataset("mnist", "test", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")


def test_domain_classifier_on_real_mnist(mnist_test):
    from advkit.gan.metrics.domain import DomainMetric, accuracy, load_domain_classifier

    classifier = load_domain_classifier("mnist")
    assert accuracy(classifier, mnist_test.subset(2000)) > 0.95
    real = mnist_test.images
    metric = DomainMetric(classifier, real[:5000], "mnist")
    on_real = metric.evaluate(real[5000:])
    assert on_real["domain_is"] > 8.5 and on_real["classes_covered"] == 10 and on_real["class_kl"] < 0.05
    # The real-data floor is small next to any collapsed sample set.
    collapsed = metric.evaluate(real[5000:][mnist_test.labels[5000:] == 1])
    assert collapsed["domain_fid"] > 20 * on_real["domain_fid"] and collapsed["classes_covered"] <= 2
    assert collapsed["domain_is"] < 2
