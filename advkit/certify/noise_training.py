"""Training a base classifier for randomized smoothing: Gaussian data augmentation (Cohen, Rosenfeld & Kolter
2019, sec. 4) and consistency regularisation (Jeong & Shin 2020, "Consistency Regularization for Certified
Robustness of Smoothed Classifiers", eq. 6-7).

Gaussian augmentation:  L = CE(f(x + delta), y),  delta ~ N(0, sigma^2 I), no clipping to [0, 1] (the smoothed
classifier sees unclipped noise, so training does too).

Consistency, m noisy copies delta_1..delta_m of each image, p_i = softmax(f(x + delta_i)), p_hat = mean_i p_i:
    L = (1/m) sum_i CE(f(x + delta_i), y) + lambda (1/m) sum_i KL(p_hat || p_i) + eta H(p_hat)
(Jeong & Shin: m = 2; lambda 10-20 and eta 0.5 on CIFAR-10 and MNIST).

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1], ``y`` ``[B]``; returns a scalar loss with a graph to the weights and a
dict of floats to log.

    >>> loss, parts = gaussian_objective(net, x, y, sigma=0.25, generator=g)
    >>> loss, parts = consistency_objective(net, x, y, sigma=0.25, copies=2, weight=10.0, entropy=0.5, generator=g)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gaussian_noise(shape: torch.Size, sigma: float, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """sigma * N(0, I) of ``shape`` on ``device``, drawn from ``generator`` (a CPU generator: same draws on any device)."""
    noise = torch.randn(shape, generator=generator) if generator is not None else torch.randn(shape)
    return noise.mul_(sigma).to(device)


def gaussian_objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor, sigma: float,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy on one noisy copy of each image (Cohen et al.'s training)."""
    loss = F.cross_entropy(model(x + gaussian_noise(x.shape, sigma, x.device, generator)), y)
    return loss, {}


def consistency_objective(model: nn.Module, x: torch.Tensor, y: torch.Tensor, sigma: float, copies: int = 2,
                          weight: float = 10.0, entropy: float = 0.5, generator: torch.Generator | None = None
                          ) -> tuple[torch.Tensor, dict[str, float]]:
    """Jeong & Shin's loss on ``copies`` noisy copies of each image (see the module docstring)."""
    b = x.shape[0]
    noisy = x.repeat(copies, *([1] * (x.dim() - 1)))
    logits = model(noisy + gaussian_noise(noisy.shape, sigma, x.device, generator))
    ce = F.cross_entropy(logits, y.repeat(copies))
    log_p = F.log_softmax(logits, dim=1).view(copies, b, -1)
    p_hat = log_p.exp().mean(0)
    log_p_hat = p_hat.clamp_min(1e-12).log()
    # KL(p_hat || p_i) averaged over copies and the batch
    kl = (p_hat.unsqueeze(0) * (log_p_hat.unsqueeze(0) - log_p)).sum(-1).mean()
    ent = -(p_hat * log_p_hat).sum(-1).mean()
    loss = ce + weight * kl + entropy * ent
    return loss, {"ce": ce.item(), "consistency": kl.item(), "entropy": ent.item()}
