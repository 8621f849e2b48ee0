"""The toy-data figure of `gan train`: real points and G's samples (ring of 8 Gaussians: a scatter plot; the 1-D
Gaussian: two histograms).

    >>> toy_figure(real, fake, "ns, pack 4, step 2000", Path("images/step-00002000.png"))
"""

from __future__ import annotations

from pathlib import Path

import torch


def toy_figure(real: torch.Tensor, fake: torch.Tensor, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    if fake.shape[1] == 2:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", label="data")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:red", alpha=0.5, label="G(z)")
        ax.set_xlim(-3, 3), ax.set_ylim(-3, 3), ax.set_aspect("equal")
    else:
        ax.hist(real[:, 0].numpy(), bins=60, density=True, alpha=0.5, label="data")
        ax.hist(fake[:, 0].numpy(), bins=60, density=True, alpha=0.5, label="G(z)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
