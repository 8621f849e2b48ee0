"""What ``advkit fgsm`` shows: the panda-style figure on single images, and error vs eps on a test set.

The victim is loaded by :func:`advkit.models.loader.load_victim`: the shipped MNIST CNN (``default``), a checkpoint
written by ``advkit advtrain``, or ``torchvision:NAME`` (pretrained weights used only when already cached). Images
are tensors in [0, 1]; ImageNet normalization lives in :class:`advkit.models.normalized.Normalized`.

    >>> victim = load_victim("default", torch.device("cpu"))
    >>> x = victim.load_image(victim.default_images[0])          # [1, 1, 28, 28]
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from advkit.attacks import FGSM, predict
from advkit.data.paths import portable_path
from advkit.models.loader import Victim
from advkit.errors import AdvkitError

# ---------------------------------------------------------------------------------------------- measurements
def fgsm_directions(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """sign(grad_x J(x, y)) per image: FGSM at any eps is ``x + eps * direction`` (clipped), so one backward pass
    serves every eps of a search."""
    out = []
    for start in range(0, x.shape[0], batch_size):
        _, grad = FGSM(model, 1.0).loss_and_grad(x[start:start + batch_size], y[start:start + batch_size])
        out.append(grad.sign_())
    return torch.cat(out)


class FlipCurve:
    """How often untargeted FGSM (against the model's own prediction) changes the predictions on ``x``, at any eps:
    one backward pass for the directions, then a forward pass per eps asked."""

    def __init__(self, model: nn.Module, x: torch.Tensor, clip: bool = True):
        self.model, self.x, self.clip = model, x, clip
        self.pred, _ = predict(model, x)
        self.direction = fgsm_directions(model, x, self.pred)

    def flipped(self, eps: float | torch.Tensor) -> torch.Tensor:
        """Per image, whether FGSM at ``eps`` (a number, or one per image) changes its prediction."""
        eps = eps.view(-1, *[1] * (self.x.dim() - 1)) if isinstance(eps, torch.Tensor) else eps
        x_adv = self.direction * eps + self.x
        return predict(self.model, x_adv.clamp(0, 1) if self.clip else x_adv)[0] != self.pred

    def rate(self, eps: float) -> float:
        return self.flipped(eps).float().mean().item()

    def eps_to_flip_half(self, iterations: int = 8) -> float | None:
        """The smallest eps (to 1/2**iterations of the range) at which FGSM flips half the predictions; None if
        even eps = 1 does not."""
        if self.rate(1.0) < 0.5:
            return None
        low, high = 0.0, 1.0
        for _ in range(iterations):
            mid = (low + high) / 2
            low, high = (low, mid) if self.rate(mid) >= 0.5 else (mid, high)
        return high

    def eps_to_flip_each(self, iterations: int = 8) -> list[float | None]:
        """Per image, the smallest eps (to 1/2**iterations) at which FGSM changes its prediction; None if eps = 1
        does not. A bisection for all images at once."""
        ever = self.flipped(1.0)
        low, high = torch.zeros(self.x.shape[0], device=self.x.device), torch.ones(self.x.shape[0], device=self.x.device)
        for _ in range(iterations):
            mid = (low + high) / 2
            flips = self.flipped(mid)
            high, low = torch.where(flips, mid, high), torch.where(flips, low, mid)
        return [float(h) if e else None for h, e in zip(high.tolist(), ever.tolist())]


def _name(victim: Victim, k: int) -> str:
    return victim.class_names[k] if 0 <= k < len(victim.class_names) else str(k)


def image_mode(victim: Victim, config: Any, session: Any) -> dict:
    """Panda-style figures for the given (or shipped) images, plus the honest flip-rate measurement."""
    eps = list(config.eps)
    if len(eps) != 1:
        raise AdvkitError("--eps takes one value for single images (a comma list is for --dataset mode)")
    eps = eps[0]
    paths = [Path(config.image)] if config.image else victim.default_images
    if not paths:
        raise AdvkitError("no image to attack: pass --image PATH")
    if config.target >= len(victim.class_names):
        raise AdvkitError(f"--target must be a class index in [0, {len(victim.class_names) - 1}]; got {config.target}")
    device = next(victim.model.parameters()).device
    x = torch.cat([victim.load_image(p) for p in paths]).to(device)
    for path in paths:  # say so whenever an input is converted to what the model reads
        note = victim.conversion(path)
        if note:
            session.warn(f"{Path(path).name}: {note}")
    pred, conf = predict(victim.model, x)
    targeted = config.target >= 0
    known = [victim.label_of(p) for p in paths]
    # Untargeted: move away from the true class when we know it (shipped digits), else from the prediction.
    y = torch.full_like(pred, config.target) if targeted else torch.tensor(
        [k if k is not None else int(p) for k, p in zip(known, pred.tolist())], device=device)
    x_adv = FGSM(victim.model, eps, targeted=targeted, clip=config.clip)(x, y)
    adv_pred, adv_conf = predict(victim.model, x_adv)
    rows = [{"image": str(p), "true": k, "pred": _name(victim, int(a)), "conf": float(b),
             "adv_pred": _name(victim, int(c)), "adv_conf": float(d)}
            for p, k, a, b, c, d in zip(paths, known, pred, conf, adv_pred, adv_conf)]
    # The smallest eps at which FGSM flips each image (so the figure shows a flip, whatever --eps was).
    x_flip = x.clone()
    for i, (row, e) in enumerate(zip(rows, FlipCurve(victim.model, x, config.clip).eps_to_flip_each())):
        row["eps_to_flip"] = e
        if e is not None:
            x_flip[i:i + 1] = FGSM(victim.model, e, clip=config.clip)(x[i:i + 1], pred[i:i + 1])
    flip_pred, flip_conf = predict(victim.model, x_flip)
    for row, p, c in zip(rows, flip_pred, flip_conf):
        row["flip_pred"], row["flip_conf"] = _name(victim, int(p)), float(c)
    figure = session.run.images / "fgsm.png"
    panda_figure(x, x_adv, rows, eps, figure, victim.kind, x_flip)
    results: dict[str, Any] = {"model": victim.name, "model_source": victim.source, "eps": eps, "targeted": targeted,
                               "target": config.target if targeted else None, "clip": config.clip, "images": rows,
                               "figure": str(figure)}
    # Honesty about scale: how often does this eps flip a prediction, and which eps flips half?
    if victim.kind == "mnist":
        from advkit.data import load_dataset

        test = load_dataset("mnist", "test").subset(min(config.n, 1000))
        pool, pool_name = test.images.to(device), f"first {min(config.n, 1000)} images of the {test.source}"
    else:
        pool, pool_name = x, f"the {len(paths)} given image(s)"
    curve = FlipCurve(victim.model, pool, config.clip)  # one gradient for both measurements
    rate, half = curve.rate(eps), curve.eps_to_flip_half()
    dims = int(x[0].numel())
    results.update({"flip_rate": rate, "flip_rate_measured_on": pool_name, "eps_flipping_half": half,
                    "input_dimensions": dims})
    for r in rows:
        flip = (f"; flips to {r['flip_pred']} ({r['flip_conf']:.0%}) at eps={r['eps_to_flip']:.3f}"
                if r["eps_to_flip"] is not None else "; no eps <= 1 flips it")  # one line of 80 columns
        session.echo(f"{Path(r['image']).name}: {r['pred']} ({r['conf']:.0%}) -> {r['adv_pred']} ({r['adv_conf']:.0%})"
                     f"{flip}")
    session.echo(f"eps={eps:g} flips {rate:.1%} of the predictions on {pool_name}; "
                 + (f"eps={half:.3f} would flip half." if half is not None else "even eps=1 flips fewer than half."))
    if victim.kind == "mnist" and eps < 0.05:
        session.echo(f"(0.007 was the paper's eps on 224x224x3 = 150528-dimensional ImageNet inputs, where the score moves "
                     f"by eps*||w||_1 summed over every dimension; these inputs have {dims}, so with weights of similar size the same eps "
                     f"moves the score ~{150528 // dims}x less.)")
    session.echo(f"figure: {portable_path(figure)}")
    return results


def panda_figure(x: torch.Tensor, x_adv: torch.Tensor, rows: list[dict], eps: float, path: Path, kind: str,
                 x_flip: torch.Tensor | None = None) -> None:
    """original | the perturbation x_adv - x (amplified to the full range; clipping to [0, 1] makes it differ
    from eps * sign(grad) where a pixel hits 0 or 1) | adversarial at eps | (``x_flip``) adversarial at the
    smallest eps that flips the image, one row per image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = x.shape[0]
    columns = 3 if x_flip is None else 4
    fig, axes = plt.subplots(n, columns, figsize=(2.5 * columns, 2.6 * n), squeeze=False)
    eta = x_adv - x
    for i in range(n):
        amplified = (eta[i] / (2 * eps) + 0.5).clamp(0, 1) if eps > 0 else torch.full_like(eta[i], 0.5)
        panels = [(x[i], f"{rows[i]['pred']}\n{rows[i]['conf']:.1%} confidence"),
                  (amplified, f"+ perturbation, eps={eps:g}\n(x_adv - x, amplified)"),
                  (x_adv[i], f"{rows[i]['adv_pred']}\n{rows[i]['adv_conf']:.1%} confidence")]
        if x_flip is not None:
            e = rows[i]["eps_to_flip"]
            panels.append((x_flip[i], f"flips at eps={e:.3f}:\n{rows[i]['flip_pred']} ({rows[i]['flip_conf']:.1%})"
                           if e is not None else "no eps <= 1 flips it"))
        for ax, (img, title) in zip(axes[i], panels):
            img = img.detach().cpu()
            ax.imshow((img[0] if img.shape[0] == 1 else img.permute(1, 2, 0)).numpy(), cmap="gray" if img.shape[0] == 1 else None,
                      vmin=0, vmax=1)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def dataset_mode(victim: Victim, config: Any, session: Any) -> dict:
    """Error rate and mean confidence on wrong answers per eps (FGSM), plus PGD error; table, JSON, plot."""
    from advkit.robustness.tables import robustness
    from advkit.data import load_dataset

    if victim.kind != "mnist":
        raise AdvkitError("--dataset needs an MNIST-sized classifier (default or an `advkit advtrain` checkpoint), "
                          "not an ImageNet model")
    test = load_dataset(config.dataset, "test").subset(config.n)
    device = next(victim.model.parameters()).device
    progress: Callable = lambda it, desc: session.track(it, description=desc)  # noqa: E731
    rows = robustness(victim.model, test.images.to(device), test.labels.to(device), list(config.eps),
                      pgd_steps=config.pgd_steps, pgd_restarts=config.pgd_restarts, batch_size=config.batch_size,
                      clip=config.clip, seed=session.seed, progress=progress, amp=config.amp)
    figure = session.run.images / "error_vs_eps.png"
    _error_plot(rows, figure, victim.name)
    session.echo(f"figure: {portable_path(figure)}")
    return {"model": victim.name, "model_source": victim.source, "dataset": test.source, "n": len(test),
            "clip": config.clip, "amp": config.amp, "pgd_steps": config.pgd_steps, "pgd_restarts": config.pgd_restarts, "rows": rows,
            "figure": str(figure)}


def _error_plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = [r["eps"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(eps, [100 * r["fgsm_error"] for r in rows], "o-", label="FGSM error")
    if "pgd_error" in rows[0]:
        ax.plot(eps, [100 * r["pgd_error"] for r in rows], "s--", label="PGD error")
    ax.plot(eps, [100 * r["fgsm_wrong_confidence"] if r["fgsm_wrong_confidence"] == r["fgsm_wrong_confidence"] else math.nan
                  for r in rows], "^:", label="mean confidence on wrong (FGSM)")
    ax.set_xlabel("eps (L-inf, pixels in [0,1])")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
