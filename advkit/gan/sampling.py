"""Drawing from a trained generator: the checkpoint's sampler, class labels, samples in chunks.

    >>> G, payload = load_generator("runs/gan-train-.../checkpoints/best.pt", torch.device("cpu"))
    >>> images = generate(G, 5000, torch.Generator().manual_seed(0), labels=cycled_labels(G, 5000))  # [5000, C, H, W]
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.runtime.modules import eval_mode, model_device


def load_generator(ckpt, device: torch.device, images: bool = False) -> tuple[nn.Module, dict]:
    """The sampling generator of a `gan train` checkpoint (its EMA copy when it has one, batch-norm statistics
    re-estimated for the averaged weights) and the checkpoint payload. ``images``: refuse a toy-data generator
    (for grids)."""
    from advkit.gan.ema import recalibrate_batch_norm
    from advkit.models.registry import rebuild_models
    from advkit.runtime.checkpoint import load_checkpoint

    payload = load_checkpoint(ckpt)
    role = "G_ema" if "G_ema" in payload["models"] else "G"
    if role not in payload["models"]:
        raise AdvkitError(f"{ckpt} holds no generator ({', '.join(payload['models'])}): pass a `gan train` checkpoint")
    G = rebuild_models(payload, [role], device)[role].eval()
    if not hasattr(G, "images"):  # e.g. a denoising GAN's G: same role name, not a sampler of z
        raise AdvkitError(f"{ckpt} holds a {payload['models'][role]['name']} model, not a GAN generator: "
                          "pass a `gan train` checkpoint")
    if images and not generates_images(G):
        raise AdvkitError("this checkpoint generates vectors (toy data), not images: see its run's images/")
    if role == "G_ema":
        recalibrate_batch_norm(G)  # same statistics the trainer sampled with (a no-op without batch norm)
    return G, payload


def generates_images(G: nn.Module) -> bool:
    """Image generators output [C, H, W]; toy-data generators (ring, 1-D Gaussian) output points."""
    return len(getattr(G.config, "out_shape", [0, 0, 0])) == 3


def cycled_labels(G: nn.Module, n: int, label: int | None = None) -> torch.Tensor | None:
    """Labels for a conditional G: ``label`` n times, or every class in turn; None for an unconditional G."""
    k = G.config.num_classes
    if label is not None and not k:
        raise AdvkitError("--label needs a conditional generator (trained with --num-classes)")
    if label is not None and not 0 <= label < k:
        raise AdvkitError(f"--label must be in [0, {k - 1}]; got {label}")
    if not k:
        return None
    labels = torch.full((n,), label) if label is not None else torch.arange(n) % k
    return labels.to(model_device(G))


@torch.no_grad()
def generate(G: nn.Module, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
             chunk: int = 1000, truncation: float | None = None) -> torch.Tensor:
    """n samples on the CPU, in data space ([0, 1] images, or raw points for a toy G), in chunks, in eval mode.

    A conditional G without ``labels`` gets random classes drawn from ``generator``; ``truncation``: the truncation
    trick for a G trained with a gaussian prior (:mod:`advkit.gan.latent`)."""
    out, device, k = [], model_device(G), G.config.num_classes
    with eval_mode(G):
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            y = labels[start:start + m] if labels is not None else (
                torch.randint(k, (m,), generator=generator).to(device) if k else None)
            z = G.noise(m, generator, truncation)
            out.append((G.images(z, y) if generates_images(G) else G(z, y).float()).cpu())
    return torch.cat(out)
