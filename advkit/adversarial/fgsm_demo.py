"""What ``advkit fgsm`` shows: the panda-style figure on single images, and error vs eps on a test set.

The victim is the shipped MNIST CNN (``default``), a checkpoint written by ``advkit advtrain``, or a
torchvision ImageNet classifier (pretrained weights used only when already cached: nothing is downloaded
at run time). Images are tensors in [0, 1]; ImageNet normalization lives in :class:`advkit.attacks.Normalized`.

    >>> victim = load_victim("default", torch.device("cpu"))
    >>> x = victim.load_image(victim.default_images[0])          # [1, 1, 28, 28]
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from advkit.attacks import FGSM, IMAGENET_MEAN, IMAGENET_STD, Normalized, predict
from advkit.data.paths import assets_root, portable_path
from advkit.errors import AdvkitError

DEFAULT_CHECKPOINT = "mnist-cnn.pt"
DIGIT_NAME = re.compile(r"^mnist-test-(\d+)-label-(\d)\.png$")


@dataclass
class Victim:
    model: nn.Module
    name: str
    kind: str  # "mnist" (1x28x28) or "imagenet" (3x224x224)
    class_names: list[str]
    default_images: list[Path] = field(default_factory=list)
    source: str = ""

    def load_image(self, path: str | os.PathLike) -> torch.Tensor:
        """An image file as a ``[1, C, H, W]`` tensor in [0, 1] in the victim's input format."""
        from torchvision.transforms.v2 import functional as TF

        from advkit.data.images import load_image

        # The foundation's reader: missing, truncated, transparent or non-image files get one-line errors.
        x = load_image(path, mode="L" if self.kind == "mnist" else "RGB")
        if self.kind == "mnist":
            x = TF.resize(x, [28, 28], antialias=True)
        else:  # the standard ImageNet evaluation crop
            x = TF.center_crop(TF.resize(x, [256], antialias=True), [224, 224])
        return x.clamp(0, 1).unsqueeze(0)

    def conversion(self, path: str | os.PathLike) -> str | None:
        """What :meth:`load_image` changes in this file to fit the model's input (None: nothing)."""
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            size, mode = image.size, image.mode
            rgb = np.asarray(image.convert("RGB"))
        grey = mode in ("L", "1") or bool((rgb == rgb[..., :1]).all())  # RGB files of grey pixels lose nothing
        if self.kind == "mnist" and (size != (28, 28) or not grey):
            return f"{size[0]}x{size[1]} {mode} image converted to 28x28 grey for the MNIST classifier"
        if self.kind == "imagenet" and (size != (224, 224) or mode != "RGB"):
            return f"{size[0]}x{size[1]} {mode} image resized to 256 px and centre-cropped to 224x224 RGB"
        return None

    def label_of(self, path: Path) -> int | None:
        match = DIGIT_NAME.match(Path(path).name)
        return int(match.group(2)) if match else None


def load_victim(spec: str, device: torch.device) -> Victim:
    """``default`` | a torchvision classifier name | a checkpoint path."""
    digits = sorted(assets_root().glob("mnist-test-*.png"))
    if spec == "default":
        path = assets_root() / DEFAULT_CHECKPOINT
        if not path.exists():
            raise AdvkitError(f"the shipped default model {path} is missing; reinstall advkit or pass --model CKPT")
        return _from_checkpoint(path, device, digits, "shipped MNIST CNN (advkit, 5k MNIST train subset)")
    if Path(spec).exists() or Path(spec).suffix in (".pt", ".pth") or "/" in spec or os.sep in spec:
        # A path: the checkpoint loader names what is wrong with it (missing, truncated, foreign, ...).
        return _from_checkpoint(Path(spec), device, digits, f"checkpoint {spec}")
    return _torchvision(spec, device)


def _from_checkpoint(path: Path, device: torch.device, digits: list[Path], source: str) -> Victim:
    from advkit.models.classifiers import ARCHS
    from advkit.runtime.checkpoint import load_checkpoint, rebuild_models

    payload = load_checkpoint(path)
    role = "net"
    if role not in payload["models"] or payload["models"][role]["name"] not in ARCHS:
        held = ", ".join(f"{r}: {m['name']}" for r, m in payload["models"].items())
        raise AdvkitError(f"{path} holds no MNIST classifier ({held}); pass a checkpoint written by `advkit advtrain` "
                          f"(architectures {', '.join(ARCHS)})")
    model = rebuild_models(payload, [role], device)[role].eval()
    num_classes = getattr(model.config, "num_classes", 10)
    return Victim(model, payload["models"][role]["name"], "mnist", [str(c) for c in range(num_classes)], digits, source)


def _torchvision(name: str, device: torch.device) -> Victim:
    """A torchvision ImageNet classifier whose pretrained weights are already in the torch hub cache."""
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise AdvkitError(f"--model {name!r} is neither 'default', an existing checkpoint file, nor a torchvision "
                          "classifier name (e.g. googlenet, resnet50)") from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    if not cached.exists():
        raise AdvkitError(f"pretrained {name} weights are not cached at {cached} and advkit never downloads at run time; "
                          f"on a machine with a network run `python -c \"import torchvision; torchvision.models.{name}"
                          f"(weights='DEFAULT')\"` (or copy {os.path.basename(weights.url)} there), then retry")
    try:
        model = torchvision.models.get_model(name, weights=weights).eval()
    except RuntimeError as e:  # truncated download, hash mismatch
        raise AdvkitError(f"cached {name} weights at {cached} are unreadable ({str(e).splitlines()[0][:80]}); delete the "
                          "file and fetch it again on a machine with a network") from None
    net = Normalized(model, IMAGENET_MEAN, IMAGENET_STD).to(device).eval()
    return Victim(net, name, "imagenet", list(weights.meta["categories"]), [assets_root() / "chelsea.png"],
                  f"torchvision {name} ({weights})")


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
    from advkit.adversarial.evaluate import robustness
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
