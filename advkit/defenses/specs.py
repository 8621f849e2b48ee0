"""Purifiers by name, one string each (what ``advkit eval defense --purifier`` takes); the kinds are the rows of
:mod:`advkit.defenses.catalog`:

    identity | bit-depth:BITS | jpeg:QUALITY | median:KERNEL | tv:WEIGHT | denoiser:fast|quality|CKPT |
    hgd:CKPT | defense-gan:CKPT | torchscript:PATH | module:package.module:callable

    >>> purifier = load_purifier("jpeg:75")
    >>> purifier = load_purifier("hgd:runs/defense-train-hgd-.../checkpoints/best.pt")   # advkit defense train-hgd
    >>> purifier = load_purifier("defense-gan:runs/gan-train-.../checkpoints/final.pt", seed=0, gan_steps=50)
    >>> purifier = load_purifier("mypkg.purifiers:build")          # your own nn.Module (white-box unless it says
    ...                                                            # differentiable = False: then BPDA)
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.defenses.catalog import split_spec
from advkit.errors import AdvkitError


class Declared(nn.Module):
    """A user's purifier with the catalog's declaration: ``differentiable`` (white-box PGD through it, or BPDA)."""

    randomized = False

    def __init__(self, purifier: nn.Module, differentiable: bool):
        super().__init__()
        self.purifier, self.differentiable = purifier, differentiable
        self.randomized = bool(getattr(purifier, "randomized", False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.purifier(x)


def load_purifier(spec: str, device: torch.device | str = "cpu", seed: int = 0, gan_restarts: int = 4,
                  gan_steps: int = 100, gan_lr: float = 0.01) -> nn.Module:
    """The purifier a spec names, on ``device``; Defense-GAN draws its restarts from a generator seeded ``seed``."""
    entry, arg = split_spec(spec)
    settings = {"device": device, "seed": seed, "gan_restarts": gan_restarts, "gan_steps": gan_steps, "gan_lr": gan_lr}
    purifier = entry.builder()(*entry.read_arg(arg), **{k: settings[k] for k in entry.takes})
    if not isinstance(purifier, nn.Module):
        raise AdvkitError(f"--purifier {spec!r} gave a {type(purifier).__name__}, not a torch.nn.Module")
    declared = entry.differentiable
    if declared is None and entry.name == "module":  # a user's module: autograd's unless it says otherwise
        declared = bool(getattr(purifier, "differentiable", True))
    if declared is not None and getattr(purifier, "differentiable", None) != declared:
        purifier = Declared(purifier, declared)
    return purifier.to(device)
