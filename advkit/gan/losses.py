"""GAN objectives on discriminator logits, one pair (D loss, G loss) per ``--loss``, each minimized; which pair a
name means is its row in :mod:`advkit.gan.loss_catalog`.

Notation: ``r = D(x)`` logits on real data, ``f = D(G(z))`` logits on generated data, sigma the logistic
function, so D's probability "real" is sigma(logit) and log sigma(t) = -softplus(-t), log(1 - sigma(t)) = -softplus(t).
Means are over the batch. Shapes: logits ``[B]`` (or ``[B, 1]``); every loss returns a 0-dim tensor.

* ``minimax`` (Goodfellow et al. 2014, eq. 1, saturating):
  L_D = -E[log sigma(r)] - E[log(1 - sigma(f))],   L_G = E[log(1 - sigma(f))]
* ``ns`` (non-saturating, the same paper's practical fix; what the TF MNIST source trains):
  L_D as minimax,                                  L_G = -E[log sigma(f)]
* ``wgan`` (Arjovsky et al. 2017; critic without sigmoid, weights clipped to [-c, c] after each step):
  L_D = E[f] - E[r]  (minus the Wasserstein estimate),  L_G = -E[f]
* ``wgan-gp`` (Gulrajani et al. 2017): the wgan losses, plus on D
  lambda * E[(||grad_x D(x_hat)||_2 - 1)^2],  x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample
* ``hinge`` (Lim & Ye 2017; Miyato et al. 2018):
  L_D = E[max(0, 1 - r)] + E[max(0, 1 + f)],        L_G = -E[f]

    >>> r, f = torch.tensor([2.0]), torch.tensor([-1.0])
    >>> d_loss("ns", r, f), g_loss("ns", f)          # softplus(-2) + softplus(-1), softplus(1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advkit.gan.loss_catalog import gan_loss
from advkit.runtime.device import to_device


def d_loss(loss: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's (critic's) loss of catalog row ``loss``; wgan-gp's gradient penalty is added by the caller."""
    d_term, _ = gan_loss(loss).terms()
    # Losses are computed in float32 even under bf16 autocast: softplus of large logits needs the range.
    return d_term(real_logits.float(), fake_logits.float())


def g_loss(loss: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's loss of catalog row ``loss`` on D's logits for generated samples."""
    _, g_term = gan_loss(loss).terms()
    return g_term(fake_logits.float())


# ------------------------------------------------------------------ the terms (rows of advkit.gan.loss_catalog)
def logistic_d(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """minimax / ns: -E[log sigma(r)] - E[log(1 - sigma(f))] = E[softplus(-r)] + E[softplus(f)], stable for any logit."""
    return F.softplus(-r).mean() + F.softplus(f).mean()


def minimax_g(f: torch.Tensor) -> torch.Tensor:
    """E[log(1 - sigma(f))] = -E[softplus(f)]: saturates (gradient -> 0) exactly when D confidently rejects G(z)."""
    return -F.softplus(f).mean()


def ns_g(f: torch.Tensor) -> torch.Tensor:
    """-E[log sigma(f)] = E[softplus(-f)]."""
    return F.softplus(-f).mean()


def wasserstein_d(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """E[f] - E[r]: minus the critic's Wasserstein estimate."""
    return f.mean() - r.mean()


def hinge_d(r: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - r)] + E[max(0, 1 + f)]."""
    return F.relu(1 - r).mean() + F.relu(1 + f).mean()


def critic_g(f: torch.Tensor) -> torch.Tensor:
    """-E[f] (wgan, wgan-gp, hinge)."""
    return -f.mean()


def gradient_penalty(discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                     labels: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates x_hat of real and fake ``[B, ...]``.

    The norm is taken per D output: with PacGAN packing (D scores groups of m samples) the gradient of one
    score is the concatenated gradient of its m inputs. ``generator`` (CPU) draws the interpolation weights.
    """
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator)
    eps = to_device(eps, real.device).to(real.dtype)  # pinned, non-blocking: the host does not wait for the GPU
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = discriminator(x_hat, labels) if labels is not None else discriminator(x_hat)
    (grad,) = torch.autograd.grad(scores.float().sum(), x_hat, create_graph=True)
    norms = grad.float().reshape(scores.shape[0], -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """WGAN's Lipschitz constraint by brute force: every parameter clamped into [-c, c]."""
    for p in module.parameters():
        p.clamp_(-c, c)


def d_probability(loss: str, logits: torch.Tensor) -> torch.Tensor:
    """What to log as "D(x)": the probability sigma(logit) for probabilistic losses, the raw critic score otherwise."""
    return torch.sigmoid(logits.float()) if gan_loss(loss).probability else logits.float()
