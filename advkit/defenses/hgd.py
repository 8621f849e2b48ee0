"""The high-level representation guided denoiser, HGD (Liao, Liang, Dong, Pang, Hu & Zhu 2018, "Defense against
adversarial attacks using high-level representation guided denoiser", CVPR): a denoiser ``D`` in front of a fixed
classifier ``f``, trained so that the *classifier* cannot tell the denoised adversarial image from the clean one.

    x_hat = x_adv - D(x_adv)                          (D predicts the adversarial noise: the paper's DUNET)
    LGD:  L = || f(x_hat) - f(x) ||_1                 (logits guided; the paper's best, ``guide="logits"``)
    FGD:  L = || h(x_hat) - h(x) ||_1                 (feature guided: h = the last hidden layer, ``"features"``)
    CGD:  L = cross-entropy(f(x_hat), y)              (class-label guided, ``"labels"``)

A pixel loss ``||x_hat - x||`` leaves a small residual noise that the classifier amplifies (the paper's "error
amplification effect"); a loss on high-level representations suppresses the part of the noise that matters to
``f``. ``D`` is trained on adversarial examples crafted against ``f`` alone (FGSM and PGD at random budgets:
``advkit defense train-hgd``, :mod:`advkit.train.hgd`); the L1 norms are means over the batch and the units.

The network is advkit's residual U-Net (``denoise-unet``, :mod:`advkit.denoise.generator`: it predicts the noise
and subtracts it, its last layer starts at zero so the untrained HGD is the identity), sized for 28x28 grey
images: width 16, two stride-2 levels (28 -> 14 -> 7). The paper's DUNET is the same idea for 299x299 ImageNet
images. ``features`` is the input of the classifier's last ``nn.Linear`` when that layer gives the logits (the
shipped CNN's 100 hidden units; the paper's FGD uses the top convolutional layer of its Inception / ResNet models).

HGD is a network, hence differentiable: the white-box attack goes straight through ``f(x - D(x))``. Athalye &
Carlini (2018, "On the robustness of the CVPR 2018 white-box adversarial example defenses", arXiv:1804.03286)
broke it that way on ImageNet: a targeted attack at L-inf 4/255 succeeded on 100% of images.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``x_hat`` like ``x``, clamped to [0, 1], on ``x``'s device.

    >>> purifier = HGD.load("runs/defense-train-hgd-.../checkpoints/best.pt", torch.device("cpu"))
    >>> loss = guided_loss(classifier, purifier(x_adv), x, y, guide="logits")
    >>> Defended(classifier, purifier)(x_adv).argmax(1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advkit.errors import AdvkitError
from advkit.defenses.options import GUIDES  # logits (LGD), features (FGD), labels (CGD)

ROLE = "denoiser"  # the model's role in a `defense train-hgd` checkpoint


class HGD(nn.Module):
    """``x - D(x)`` clamped to [0, 1], with ``D`` a residual denoiser (``model(x)`` returns ``x - D(x)``)."""

    differentiable, randomized = True, False

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    @classmethod
    def load(cls, path: str, device: torch.device | str = "cpu") -> "HGD":
        """The denoiser of an ``advkit defense train-hgd`` checkpoint, frozen and in eval mode, on ``device``."""
        from advkit.models.registry import rebuild_models
        from advkit.runtime.checkpoint import load_checkpoint

        payload = load_checkpoint(path)
        if ROLE not in payload["models"]:
            held = ", ".join(f"{role}: {spec['name']}" for role, spec in payload["models"].items())
            raise AdvkitError(f"{path} holds no HGD denoiser ({held}); pass a checkpoint written by "
                              "`advkit defense train-hgd` (for `denoise train` checkpoints use --purifier denoiser:CKPT)")
        model = rebuild_models(payload, [ROLE], device)[ROLE].eval()
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        return cls(model).eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = self.model.config.channels
        if x.dim() != 4 or x.shape[1] != channels:
            raise AdvkitError(f"this HGD denoiser takes [B, {channels}, H, W] images; got {list(x.shape)}: train it "
                              "on the classifier's data")
        return self.model(x).clamp(0, 1)


def last_hidden(classifier: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the last hidden layer ``[B, units]``, the logits ``[B, classes]``): the input of the classifier's last
    ``nn.Linear``, checked to be the layer that gives the logits (else an AdvkitError: use ``guide="logits"``)."""
    linears = [m for m in classifier.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise AdvkitError("--guide features needs a classifier whose logits come from a final nn.Linear; this one "
                          "has none: use --guide logits")
    seen: dict[str, torch.Tensor] = {}

    def keep(module, inputs, output):
        seen["hidden"], seen["output"] = inputs[0], output

    try:
        handle = linears[-1].register_forward_hook(keep)
    except RuntimeError:  # TorchScript modules take no Python hooks
        raise AdvkitError("--guide features needs a Python (not TorchScript) classifier: use --guide logits") from None
    try:
        logits = classifier(x)
    finally:
        handle.remove()
    hidden = seen.get("hidden")
    if hidden is None or (seen["output"] is not logits and not torch.equal(seen["output"], logits)):
        raise AdvkitError("--guide features: the classifier's last nn.Linear does not give its logits, so its last "
                          "hidden layer is not known: use --guide logits")
    if hidden.flatten(1).shape[1] == x.flatten(1).shape[1] and torch.equal(hidden.flatten(1), x.flatten(1)):
        raise AdvkitError("--guide features: the classifier has no hidden layer (its last layer reads the pixels): "
                          "use --guide logits")
    return hidden.flatten(1), logits


def representation(classifier: nn.Module, x: torch.Tensor, guide: str) -> torch.Tensor:
    """What the guided loss compares: the logits (``logits``, ``labels``) or the last hidden layer (``features``)."""
    if guide not in GUIDES:
        raise AdvkitError(f"--guide must be one of {', '.join(GUIDES)}; got {guide!r}")
    return last_hidden(classifier, x)[0] if guide == "features" else classifier(x)


def guided_loss(classifier: nn.Module, x_hat: torch.Tensor, x: torch.Tensor, y: torch.Tensor | None = None,
                guide: str = "logits", target: torch.Tensor | None = None) -> torch.Tensor:
    """The HGD loss of denoised images ``x_hat`` against clean ``x`` (labels ``y`` for ``labels``): a scalar,
    differentiable in ``x_hat``; zero for ``logits`` / ``features`` when ``x_hat == x``. ``target``: the clean
    representation, when already computed."""
    out = representation(classifier, x_hat, guide)
    if guide == "labels":
        if y is None:
            raise AdvkitError("--guide labels (CGD) needs the true labels")
        return F.cross_entropy(out, y)
    if target is None:
        with torch.no_grad():
            target = representation(classifier, x, guide)
    return (out - target).abs().mean()
