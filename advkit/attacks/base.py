"""What every attack shares: inputs in [0, 1], normalization in one place, eval mode during the attack.

An attack is called on a batch of images ``x`` ``[B, C, H, W]`` in [0, 1] and labels ``y`` ``[B]`` and returns
adversarial images of the same shape, on the model's device. The model must map [0, 1] images to logits; a
network trained on normalized inputs (every torchvision ImageNet model) is wrapped once in :class:`Normalized`,
so the attack's budget ``eps`` is always measured in pixel units of [0, 1] images (the paper's 0.007 is
about 1.8/255 of an 8-bit pixel; 1/255 would be 0.0039).

    >>> net = Normalized(torchvision.models.googlenet(weights=...), IMAGENET_MEAN, IMAGENET_STD)
    >>> x_adv = FGSM(net, eps=0.007)(x, y)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from advkit.errors import AdvkitError
from advkit.models.normalized import IMAGENET_MEAN, IMAGENET_STD, Normalized  # noqa: F401 - advkit.attacks.Normalized
from advkit.runtime.amp import autocast
from advkit.runtime.modules import eval_mode, model_device, model_dtype
from advkit.values import check_eps, parse_norm

T = TypeVar("T")

class Attack(ABC):
    """Base class: validates the budget and inputs, moves them to the model's device, switches to eval mode.

    Subclasses implement :meth:`perturb` (called with gradients enabled and the model in eval mode) and run
    the model through :meth:`logits`, which feeds it inputs in its own dtype (float16, float64) and returns
    float32 logits, so the attack itself always works on float32 images and float32 gradients.
    ``targeted=True`` makes ``y`` the *target* classes: the attack then lowers their loss.
    ``norm`` is the ball ``eps`` measures: "linf" (eps in [0, 1]) or "l2" (any finite eps >= 0); any spelling
    :func:`advkit.values.parse_norm` knows ("Linf", "L2") is accepted and stored as "linf" / "l2".
    """

    def __init__(self, model: nn.Module, eps: float, targeted: bool = False, clip: bool = True, amp: bool = False,
                 norm: str = "linf"):
        self.norm = parse_norm(norm)
        self.model, self.eps, self.targeted, self.clip = model, check_eps(eps, self.norm), targeted, clip
        # Mixed precision for the model's forward/backward (bf16 on CUDA; on the CPU only when asked, for tests).
        # The input, its gradient and the perturbation stay float32: only the sign of the gradient is used.
        self.amp = amp
        self.dtype = model_dtype(model)
        self.num_classes: int | None = None  # known once __call__ has seen the model's output

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.guarded(self.perturb, x, y)

    def guarded(self, attack: Callable[[torch.Tensor, torch.Tensor], T], x: torch.Tensor, y: torch.Tensor) -> T:
        """``attack(x, y)`` on validated inputs on the model's device, the model in eval mode, gradients on."""
        device = model_device(self.model)
        check_labels_shape(x, y)
        x = x.detach().to(device, torch.float32)
        y = y.detach().to(device, torch.long)
        self.dtype = model_dtype(self.model)
        if x.shape[0] == 0 and attack == self.perturb:
            return x.clone()
        # The range checks are queued with the attack and read after it: reading them first would stall the host
        # until the GPU is idle and serialise every launch of the attack behind it. Meanwhile labels outside the
        # model's classes are clamped, so a bad label yields an error message, not a device-side assert.
        low, high = torch.aminmax(x) if x.numel() else (torch.zeros(()), torch.zeros(()))
        y_low, y_high = torch.aminmax(y) if y.numel() else (torch.zeros((), dtype=torch.long),) * 2
        with eval_mode(self.model), torch.enable_grad():
            if x.shape[0]:
                with torch.no_grad():
                    self.num_classes = self.logits(x[:1]).shape[1]  # the shape needs no host-device sync
                y = y.clamp(0, self.num_classes - 1)
            result = attack(x, y)
        if low.item() < 0 or high.item() > 1:
            raise AdvkitError("attack inputs must be images in [0, 1]; put normalization in "
                              "advkit.attacks.Normalized(model, mean, std) instead of in the data")
        if x.shape[0] and (y_low.item() < 0 or y_high.item() >= self.num_classes):
            raise AdvkitError(f"labels must be class indices in [0, {self.num_classes}) for this model's "
                              f"{self.num_classes} outputs; got values from {y_low.item()} to {y_high.item()}")
        return result.detach() if isinstance(result, torch.Tensor) else result

    @abstractmethod
    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The attack itself: adversarial images for ``x`` (model in eval mode, gradients enabled)."""

    # ------------------------------------------------------------------ shared pieces
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The model's float32 logits for float32 images ``x`` (cast to the model's dtype for the forward, so
        gradients come back to ``x`` in float32)."""
        if not self.amp:
            return self.model(x.to(self.dtype)).float()
        with autocast(x.device, enabled=True, cpu=True):
            return self.model(x.to(self.dtype)).float()

    def loss_and_grad(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample cross-entropy (detached) and the sign-relevant gradient of the attacker's objective.

        The objective is J(x, y) untargeted and -J(x, target) targeted, so the attack always ascends it.
        Summing (not averaging) the per-sample losses keeps each sample's gradient independent of the batch.
        """
        x = x.clone().requires_grad_(True)
        losses = F.cross_entropy(self.logits(x), y, reduction="none")
        objective = -losses.sum() if self.targeted else losses.sum()
        (grad,) = torch.autograd.grad(objective, x)
        return losses.detach(), grad

    def finish(self, x_adv: torch.Tensor) -> torch.Tensor:
        """Clip to the valid image range (on by default; ``clip=False`` follows the paper's unclipped eta)."""
        return x_adv.clamp_(0, 1) if self.clip else x_adv


def check_labels_shape(x: torch.Tensor, y: torch.Tensor) -> None:
    """Labels are a 1-D integer tensor with one class index per image (their range is checked against the model)."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise AdvkitError("images and labels must be torch tensors ([B, C, H, W] floats in [0, 1], [B] int64)")
    if y.dim() != 1:
        raise AdvkitError(f"labels must be a 1-D tensor of class indices, one per image; got shape {tuple(y.shape)}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise AdvkitError(f"labels must be an integer (int64) tensor of class indices; got {y.dtype}")
    if x.dim() == 0 or x.shape[0] != y.shape[0]:
        raise AdvkitError(f"{x.shape[0] if x.dim() else 0} images but {y.shape[0]} labels: pass one label per image")


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted class, its softmax confidence) for a batch, in eval mode, in chunks (inputs are cast to the
    model's device and dtype, so a float64 or float16 model takes float32 images)."""
    device, dtype = model_device(model), model_dtype(model)
    preds, confs = [], []
    with eval_mode(model), torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            probs = model(x[start:start + batch_size].to(device, dtype)).float().softmax(dim=1)
            conf, pred = probs.max(dim=1)
            preds.append(pred)
            confs.append(conf)
    return torch.cat(preds), torch.cat(confs)
