"""Purifiers by name, one string each (what ``advkit eval defense --purifier`` takes):

    identity | bit-depth:BITS | jpeg:QUALITY | median:KERNEL | tv:WEIGHT | denoiser:fast|quality|CKPT |
    hgd:CKPT | defense-gan:CKPT

    >>> purifier = load_purifier("jpeg:75")
    >>> purifier = load_purifier("hgd:runs/defense-train-hgd-.../checkpoints/best.pt")   # advkit defense train-hgd
    >>> purifier = load_purifier("defense-gan:runs/gan-train-.../checkpoints/final.pt", seed=0, gan_steps=50)
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.errors import AdvkitError

KINDS = ("identity", "bit-depth", "jpeg", "median", "tv", "denoiser", "hgd", "defense-gan")
FORMS = "identity, bit-depth:4, jpeg:75, median:3, tv:0.1, denoiser:fast, hgd:CKPT, defense-gan:CKPT"


def _number(kind: str, text: str, cast):
    try:
        return cast(text)
    except ValueError:
        raise AdvkitError(f"--purifier {kind}:{text}: {text!r} is not a{'n integer' if cast is int else ' number'} "
                          f"(forms: {FORMS})") from None


def load_purifier(spec: str, device: torch.device | str = "cpu", seed: int = 0, gan_restarts: int = 4,
                  gan_steps: int = 100, gan_lr: float = 0.01) -> nn.Module:
    """The purifier a spec names, on ``device``; Defense-GAN draws its restarts from a generator seeded ``seed``."""
    from advkit.defenses.bit_depth import BitDepth
    from advkit.defenses.defended import Identity
    from advkit.defenses.jpeg import JPEG
    from advkit.defenses.median import MedianFilter
    from advkit.defenses.tv import TVMinimisation

    kind, _, arg = spec.partition(":")
    if kind not in KINDS:
        raise AdvkitError(f"--purifier {spec!r}: unknown purifier {kind!r}; forms: {FORMS}")
    if kind == "identity":
        return Identity()
    if not arg:
        raise AdvkitError(f"--purifier {kind} needs a value after a colon (forms: {FORMS})")
    if kind == "bit-depth":
        return BitDepth(_number(kind, arg, int))
    if kind == "jpeg":
        return JPEG(_number(kind, arg, int))
    if kind == "median":
        return MedianFilter(_number(kind, arg, int))
    if kind == "tv":
        return TVMinimisation(_number(kind, arg, float))
    if kind == "denoiser":
        from advkit.defenses.denoiser import Denoiser

        return Denoiser.load(arg, device)
    if kind == "hgd":
        from advkit.defenses.hgd import HGD

        return HGD.load(arg, device)
    from advkit.defenses.defense_gan import DefenseGAN
    from advkit.gan.sampling import generates_images, load_generator

    G, _ = load_generator(arg, torch.device(device))
    if not generates_images(G):
        raise AdvkitError(f"--purifier {spec}: the generator makes points, not images; pass an image GAN checkpoint")
    return DefenseGAN(G, gan_restarts, gan_steps, gan_lr, torch.Generator().manual_seed(seed))
