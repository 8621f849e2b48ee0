"""Sampling and walking the generator's latent space: priors, the truncation trick, interpolation.

* Priors. ``uniform_latent``: z ~ U[-1, 1]^D (the prior advkit's generators train with, ``G.noise``);
  ``gaussian_latent``: z ~ N(0, I_D), optionally *truncated* (Brock et al. 2019, BigGAN, sec. 3.1):
  every coordinate with |z_i| > ``truncation`` is redrawn until none is left, trading diversity for
  fidelity (a smaller threshold gives more typical, less varied samples).
* Interpolation. In high dimension a Gaussian sample lies near the sphere of radius sqrt(D), and the
  straight line between two samples cuts through the low-density interior (its midpoint has norm about
  sqrt(D / 2)). Spherical linear interpolation (Shoemake 1985; for GAN latents White 2016, "Sampling
  Generative Networks") follows the great circle instead:

      slerp(z0, z1; t) = r(t) * [ sin((1 - t) w) u0 + sin(t w) u1 ] / sin w,   u = z / |z|,  w = angle(u0, u1)

  with the norm r(t) = (1 - t)|z0| + t|z1| interpolated linearly (for equal norms this is White's formula).
  Nearly parallel or antiparallel vectors (sin w ~ 0, direction of the arc undefined) fall back to ``lerp``.
  For the uniform prior the cube [-1, 1]^D is convex, so the straight line ``lerp`` stays in it; slerp may not.

All draws happen on the CPU with the caller's ``torch.Generator`` (repeatable on any device) and move to
``device``. Shapes: latents ``[..., D]``; ``t`` a float or a tensor broadcastable to ``[...]``.

    >>> z = gaussian_latent(64, 100, generator=torch.Generator().manual_seed(0), truncation=1.0)
    >>> path = interpolate(z[0], z[1], steps=8, prior="gaussian")     # [8, 100], path[0] == z[0]
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError

PRIORS = ("gaussian", "uniform")


def uniform_latent(n: int, dim: int, generator: torch.Generator | None = None,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """``[n, dim]`` latents uniform in [-1, 1]."""
    return (torch.rand((n, dim), generator=generator) * 2 - 1).to(device)


def gaussian_latent(n: int, dim: int, generator: torch.Generator | None = None, truncation: float | None = None,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """``[n, dim]`` standard normal latents; with ``truncation`` every |z_i| <= truncation (redrawn, seeded)."""
    z = torch.randn((n, dim), generator=generator)
    if truncation is not None:
        # Each redraw keeps a coordinate with probability P(|z| <= t) = erf(t / sqrt 2); below ~0.05 the
        # number of rounds grows too large and the prior is nearly a point anyway.
        if not truncation >= 0.05:
            raise AdvkitError(f"truncation must be >= 0.05 (or None for the plain Gaussian); got {truncation}")
        outside = z.abs() > truncation
        while outside.any():
            z[outside] = torch.randn(int(outside.sum()), generator=generator)
            outside = z.abs() > truncation
    return z.to(device)


def _as_weights(t: float | torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """t as a tensor of z's dtype/device with a trailing axis, so it scales whole latent vectors."""
    return torch.as_tensor(t, dtype=z.dtype, device=z.device).unsqueeze(-1)


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """(1 - t) z0 + t z1: the straight line (for uniform latents)."""
    w = _as_weights(t, z0)
    return (1 - w) * z0 + w * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation of directions, linear of norms; exact at t = 0 and 1; lerp where sin w < eps."""
    if z0.shape != z1.shape:
        raise AdvkitError(f"slerp needs two latents of one shape; got {tuple(z0.shape)} and {tuple(z1.shape)}")
    w = _as_weights(t, z0)
    r0, r1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)
    u0, u1 = z0 / r0.clamp_min(1e-30), z1 / r1.clamp_min(1e-30)
    # The angle by 2 atan2(|u0 - u1|, |u0 + u1|): accurate near 0 and pi, where acos(u0 . u1) is not.
    omega = 2 * torch.atan2((u0 - u1).norm(dim=-1, keepdim=True), (u0 + u1).norm(dim=-1, keepdim=True))
    sin_omega = omega.sin()
    radius = (1 - w) * r0 + w * r1
    # Coefficients on z0, z1 written so that t = 0 gives exactly 1 * z0 + 0 * z1 (and t = 1 exactly z1).
    a = radius / r0.clamp_min(1e-30) * (((1 - w) * omega).sin() / sin_omega)
    b = radius / r1.clamp_min(1e-30) * ((w * omega).sin() / sin_omega)
    degenerate = (sin_omega < eps) | (r0 == 0) | (r1 == 0)
    return torch.where(degenerate, lerp(z0, z1, t), a * z0 + b * z1)


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, prior: str = "gaussian") -> torch.Tensor:
    """``[steps, *z0.shape]`` latents from z0 to z1, both ends included: slerp (Gaussian prior) or lerp (uniform)."""
    if prior not in PRIORS:
        raise AdvkitError(f"prior must be one of {', '.join(PRIORS)}; got {prior!r}")
    if steps < 2:
        raise AdvkitError(f"an interpolation needs at least 2 steps (both ends); got {steps}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).reshape(steps, *([1] * (z0.dim() - 1)))
    walk = slerp if prior == "gaussian" else lerp
    return walk(z0.unsqueeze(0), z1.unsqueeze(0), t)

