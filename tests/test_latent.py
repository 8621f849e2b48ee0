"""Latent priors and walks: the truncation bound and its distribution (against scipy's truncated normal),
slerp's exact endpoints, its norms and angles, the lerp fallback, and which walk each prior gets."""

from __future__ import annotations

import math

import pytest
import torch

from advkit.errors import AdvkitError
from advkit.gan.latent import gaussian_latent, interpolate, lerp, slerp, uniform_latent

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0])
def test_truncation_bound_holds_and_only_outliers_are_redrawn(threshold):
    z = gaussian_latent(500, 64, seeded(), truncation=threshold)
    assert z.shape == (500, 64) and z.abs().max() <= threshold
    plain = gaussian_latent(500, 64, seeded())  # the same first draw
    inside = plain.abs() <= threshold
    assert torch.equal(z[inside], plain[inside]) and not torch.equal(z, plain)
    assert torch.equal(z, gaussian_latent(500, 64, seeded(), truncation=threshold))  # seeded: repeatable


def test_truncated_latents_follow_the_truncated_normal():
    stats = pytest.importorskip("scipy.stats", reason="scipy (the test extra) gives the truncated normal")
    z = gaussian_latent(400, 50, seeded(1), truncation=1.0).flatten().numpy()
    assert stats.kstest(z, stats.truncnorm(-1.0, 1.0).cdf).pvalue > 1e-3
    # sample std of n = 20,000 draws: relative error ~1/sqrt(2n) ~ 0.5%: 2% is a 4-sigma bound
    assert z.std() == pytest.approx(stats.truncnorm(-1.0, 1.0).std(), rel=0.02)


def test_priors_and_bad_truncation():
    u = uniform_latent(1000, 8, seeded())
    assert u.min() >= -1 and u.max() <= 1 and u.min() < -0.99 and u.max() > 0.99
    with pytest.raises(AdvkitError, match="truncation"):
        gaussian_latent(4, 4, seeded(), truncation=0.0)


def test_slerp_endpoints_are_exact_and_the_angle_grows_linearly():
    z0, z1 = gaussian_latent(2, 128, seeded(2))
    assert torch.equal(slerp(z0, z1, 0.0), z0) and torch.equal(slerp(z0, z1, 1.0), z1)
    path = interpolate(z0, z1, steps=9)
    assert path.shape == (9, 128) and torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    omega = torch.arccos(torch.nn.functional.cosine_similarity(z0, z1, dim=0))
    angles = torch.arccos(torch.nn.functional.cosine_similarity(path, z0[None], dim=1).clamp(-1, 1))
    # arccos near 0 loses precision: d(arccos)/dc ~ 1/sin(angle), so float32 cosines (error ~1e-7) give angles ~3e-4
    # off near the ends: 1e-3
    assert torch.allclose(angles, torch.linspace(0, 1, 9) * omega, atol=1e-3)


def test_slerp_norms_interpolate_linearly_and_equal_norms_match_whites_formula():
    z0, z1 = gaussian_latent(2, 128, seeded(3))
    z1 = 2.5 * z1  # unequal norms
    t = torch.linspace(0, 1, 11)[:, None]
    norms = slerp(z0[None], z1[None], t.squeeze(1)).norm(dim=-1)
    # float32 norms of 128-dim vectors (~sqrt(128) * 6e-8 ~ 1e-6 relative): 1e-5
    assert torch.allclose(norms, (1 - t.squeeze(1)) * z0.norm() + t.squeeze(1) * z1.norm(), rtol=1e-5)
    # Equal norms: White 2016's slerp on the raw vectors, the same curve.
    z1 = z1 / z1.norm() * z0.norm()
    omega = torch.arccos(z0 @ z1 / (z0.norm() * z1.norm()))
    white = (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    # the same formula evaluated differently in float32 (sin of O(1) angles, O(1) entries): ~1e-6
    assert torch.allclose(slerp(z0[None], z1[None], t.squeeze(1)), white, atol=1e-5)
    # A Gaussian walk stays where Gaussian latents live; the straight line sags towards the origin.
    midway_slerp, midway_lerp = slerp(z0, z1, 0.5).norm(), lerp(z0, z1, 0.5).norm()
    # as above: float32 norms of long vectors, ~1e-6 relative
    assert midway_slerp == pytest.approx(float(z0.norm()), rel=1e-5)
    assert midway_lerp < 0.8 * midway_slerp  # about 1/sqrt(2) for near-orthogonal 128-d latents


def test_slerp_falls_back_to_lerp_for_parallel_and_antiparallel_vectors():
    z0 = gaussian_latent(1, 16, seeded(4))[0]
    for z1 in (3 * z0, -2 * z0, z0.clone(), torch.zeros(16)):
        for t in (0.0, 0.3, 1.0):
            out = slerp(z0, z1, t)
            # the parallel fallback is lerp itself: one or two roundings of O(1) values
            assert torch.isfinite(out).all() and torch.allclose(out, lerp(z0, z1, t), atol=1e-6)


def test_batched_slerp_and_the_walk_each_prior_gets():
    a, b = gaussian_latent(4, 32, seeded(5)), gaussian_latent(4, 32, seeded(6))
    path = interpolate(a, b, steps=5)
    assert path.shape == (5, 4, 32)
    for i in range(4):  # rows walk independently
        # the same per-row arithmetic batched or alone: one or two roundings
        assert torch.allclose(path[:, i], interpolate(a[i], b[i], steps=5), atol=1e-6)
    u0, u1 = uniform_latent(2, 32, seeded(7))
    straight = interpolate(u0, u1, steps=6, prior="uniform")
    assert torch.allclose(straight, lerp(u0[None], u1[None], torch.linspace(0, 1, 6)))
    assert straight.abs().max() <= 1  # the cube is convex: the line stays inside
    with pytest.raises(AdvkitError, match="prior"):
        interpolate(u0, u1, steps=6, prior="cauchy")
    with pytest.raises(AdvkitError, match="steps"):
        interpolate(u0, u1, steps=1)
    assert math.isclose(float(slerp(a, b, 0.5).norm(dim=1).sub((a.norm(dim=1) + b.norm(dim=1)) / 2).abs().max()),
                        # float32 norms of 32-dim uniform vectors (~1e-6 relative) compared at their midpoint: 1e-4
                        # leaves margin for the arccos near-parallel case
                        0.0, abs_tol=1e-4)
