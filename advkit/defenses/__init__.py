"""Purification defences and the adaptive attacks that break them (Athalye, Carlini & Wagner 2018, "Obfuscated
gradients give a false sense of security").

A purifier maps images in [0, 1] to images in [0, 1]; :class:`Defended` classifies its output. Purifiers: bit-depth
reduction and median smoothing (Xu et al. 2018), JPEG and total-variation minimisation (Guo et al. 2018), a learned
denoiser, the high-level representation guided denoiser HGD (Liao et al. 2018), Defense-GAN (Samangouei et al. 2018). Adaptive attacks: :class:`BPDA` for non-differentiable purifiers,
:class:`EOT` for randomised ones; :func:`advkit.defenses.evaluate.evaluate_defense` runs them all.

    >>> from advkit.defenses import BPDA, BitDepth, Defended
    >>> from advkit.attacks import PGD
    >>> x_adv = PGD(Defended(classifier, BPDA(BitDepth(1))), eps=0.3, steps=40)(x, y)
    >>> Defended(classifier, BitDepth(1))(x_adv).argmax(1)

Names are imported on first use (``advkit.defenses.catalog`` and ``options`` load no torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advkit.runtime.lazy import lazy_names

if TYPE_CHECKING:  # the names below, for type checkers and the layout test's import graph
    from advkit.defenses.bit_depth import BitDepth
    from advkit.defenses.bpda import BPDA
    from advkit.defenses.defended import Defended, Identity
    from advkit.defenses.defense_gan import DefenseGAN
    from advkit.defenses.denoiser import Denoiser
    from advkit.defenses.eot import EOT
    from advkit.defenses.hgd import HGD
    from advkit.defenses.jpeg import JPEG
    from advkit.defenses.median import MedianFilter
    from advkit.defenses.specs import load_purifier
    from advkit.defenses.tv import TVMinimisation

_WHERE = {"BPDA": "bpda", "BitDepth": "bit_depth", "Defended": "defended", "DefenseGAN": "defense_gan",
          "Denoiser": "denoiser", "EOT": "eot", "HGD": "hgd", "Identity": "defended", "JPEG": "jpeg",
          "MedianFilter": "median", "TVMinimisation": "tv", "load_purifier": "specs"}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
