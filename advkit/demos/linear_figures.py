"""Figures of the linearity demo: softmax-regression weight templates, targeted FGSM on one digit per class,
and the success rate against eps (``advkit linear``)."""

from __future__ import annotations


def linear_figures(model, images, labels, rows, target: int, figure_eps: float, folder) -> dict:
    """Weight templates, one digit per class before/after the targeted step, success vs eps (PNG files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from advkit.demos.linear import templates
    from advkit.attacks import FGSM, predict

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    t = templates(model).cpu()
    fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
    for k, ax in enumerate(axes):
        lim = t[k].abs().max().item()
        ax.imshow(t[k, 0].numpy(), cmap="seismic", vmin=-lim, vmax=lim)
        ax.set_title(f"w_{k}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    out["templates"] = folder / "templates.png"
    fig.savefig(out["templates"], dpi=100)
    plt.close(fig)

    # One test digit of every other class, before and after the targeted step.
    idx = [int((labels == c).nonzero()[0]) for c in range(10) if c != target and (labels == c).any()]
    x = images[idx]
    target = torch.full((len(idx),), target, device=x.device)
    x_adv = FGSM(model, figure_eps, targeted=True)(x, target)
    p0, c0 = predict(model, x)
    p1, c1 = predict(model, x_adv)
    fig, axes = plt.subplots(2, len(idx), figsize=(1.3 * len(idx), 3.2), squeeze=False)
    for j in range(len(idx)):
        for row, (img, p, c) in enumerate(((x, p0, c0), (x_adv, p1, c1))):
            axes[row, j].imshow(img[j, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, j].set_title(f"{int(p[j])} ({c[j]:.0%})", fontsize=8)
            axes[row, j].axis("off")
    fig.suptitle(f"top: test digits; bottom: + targeted FGSM towards {target}, eps={figure_eps:g}", fontsize=9)
    fig.tight_layout()
    out["digits"] = folder / "targeted_digits.png"
    fig.savefig(out["digits"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.plot([r["eps"] for r in rows], [100 * r["success_rate"] for r in rows], "o-")
    ax.set_xlabel("eps")
    ax.set_ylabel(f"% classified as {target}")
    ax.set_ylim(0, 100)
    fig.tight_layout()
    out["success"] = folder / "success_vs_eps.png"
    fig.savefig(out["success"], dpi=100)
    plt.close(fig)
    return out
