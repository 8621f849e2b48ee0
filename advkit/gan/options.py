"""The GAN variants a config may name, readable without importing torch (fast ``--help``): the DiffAugment policies
(:mod:`advkit.gan.diffaugment`); the objectives are the rows of :mod:`advkit.gan.loss_catalog`.

    >>> parse_policy("translation, cutout")
    ('translation', 'cutout')
"""

from __future__ import annotations

from advkit.errors import AdvkitError

POLICIES = ("color", "translation", "cutout")


def parse_policy(text: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ``("translation", "cutout")``; ``""`` -> ``()`` (off)."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise AdvkitError(f"--diffaugment: unknown polic{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
                          f"use a comma list of {', '.join(POLICIES)} (e.g. translation,cutout), or '' for none")
    return names
