"""Pictures a run writes: image grids for viewing (torchvision's ``save_image``, with small images enlarged by
nearest neighbour, so no pixel is invented, until the grid is at least ``min_size`` pixels wide: 16 MNIST digits
make a 122 px grid, too small to read on a screen) and matplotlib figures (written whole or not at all).

    >>> save_grid(samples, run.images / "step-00001000.png", nrow=4)     # samples [16, 1, 28, 28] -> 488+ px
    >>> save_figure(fig, run.path / "robustness.png")
"""

from __future__ import annotations

from pathlib import Path

import torch


def save_grid(images: torch.Tensor, path: str | Path, nrow: int, min_size: int = 512, padding: int = 2) -> Path:
    """Save ``images`` [N, C, H, W] in [0, 1] as one grid PNG of ``nrow`` images per row, enlarged by a whole
    factor so that the grid is at least ``min_size`` px wide (never shrunk)."""
    from torchvision.utils import save_image

    columns = max(1, min(nrow, images.shape[0]))
    scale = max(1, -(-min_size // (columns * (images.shape[-1] + padding))))
    if scale > 1:
        images = torch.nn.functional.interpolate(images.float(), scale_factor=scale, mode="nearest")
    save_image(images.clamp(0, 1), path, nrow=nrow, padding=padding * scale)
    return Path(path)


def save_figure(fig, path: str | Path) -> Path:
    """Write a matplotlib figure atomically (:mod:`advkit.runtime.atomic`; the format from the suffix) and close it."""
    import matplotlib.pyplot as plt

    from advkit.runtime.atomic import atomic_file

    path = Path(path)
    try:
        with atomic_file(path) as f:
            fig.savefig(f, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return path
