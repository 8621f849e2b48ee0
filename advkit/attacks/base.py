"""What every attack shares: inputs in [0, 1], normalization in one place, eval mode during the attack.

An attack is called on a batch of images ``x`` ``[B, C, H, W]`` in [0, 1] and labels ``y`` ``[B]`` and returns
adversarial images of the same shape, on the model's device. The model must map [0, 1] images to logits; a
network trained on normalized inputs (every torchvision ImageNet model) is wrapped once in :class:`Normalized`,
so the attack's budget ``eps`` is always measured in pixel units of [0, 1] images (the paper's 0.007 is 1/255
of 8-bit ImageNet pixels, roughly).

    >>> net = Normalized(torchvision.models.googlenet(weights=...), IMAGENET_MEAN, IMAGENET_STD)
    >>> x_adv = FGSM(net, eps=0.007)(x, y)
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F
from torch import nn

from advkit.errors import AdvkitError
from advkit.runtime.amp import autocast
from advkit.runtime.modules import eval_mode, model_device

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalized(nn.Module):
    """``model((x - mean) / std)``: the one place where input normalization happens."""

    def __init__(self, model: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x - self.mean) / self.std)


class Attack(ABC):
    """Base class: validates the budget and inputs, moves them to the model's device, switches to eval mode.

    Subclasses implement :meth:`perturb` (called with gradients enabled and the model in eval mode).
    ``targeted=True`` makes ``y`` the *target* classes: the attack then lowers their loss.
    """

    def __init__(self, model: nn.Module, eps: float, targeted: bool = False, clip: bool = True, amp: bool = False):
        if not (eps == eps and 0 <= eps <= 1):
            raise AdvkitError(f"eps must be in [0, 1] (inputs are images in [0, 1]); got {eps}")
        self.model, self.eps, self.targeted, self.clip = model, float(eps), targeted, clip
        # Mixed precision for the model's forward/backward (bf16 on CUDA; on the CPU only when asked, for tests).
        # The input, its gradient and the perturbation stay float32: only the sign of the gradient is used.
        self.amp = amp

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        device = model_device(self.model)
        x = x.detach().to(device, torch.float32)
        y = y.detach().to(device, torch.long)
        if x.shape[0] != y.shape[0]:
            raise AdvkitError(f"{x.shape[0]} images but {y.shape[0]} labels: pass one label per image")
        if x.numel() == 0:
            return x.clone()
        # The range check is queued with the attack and read after it: reading it first would stall the host
        # until the GPU is idle and serialise every launch of the attack behind it.
        low, high = torch.aminmax(x)
        with eval_mode(self.model), torch.enable_grad():
            x_adv = self.perturb(x, y).detach()
        if low.item() < 0 or high.item() > 1:
            raise AdvkitError("attack inputs must be images in [0, 1]; put normalization in "
                              "advkit.attacks.Normalized(model, mean, std) instead of in the data")
        return x_adv

    @abstractmethod
    def perturb(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The attack itself: adversarial images for ``x`` (model in eval mode, gradients enabled)."""

    # ------------------------------------------------------------------ shared pieces
    def loss_and_grad(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample cross-entropy (detached) and the sign-relevant gradient of the attacker's objective.

        The objective is J(x, y) untargeted and -J(x, target) targeted, so the attack always ascends it.
        Summing (not averaging) the per-sample losses keeps each sample's gradient independent of the batch.
        """
        x = x.clone().requires_grad_(True)
        with autocast(x.device, enabled=self.amp, cpu=self.amp):
            logits = self.model(x)
        losses = F.cross_entropy(logits.float(), y, reduction="none")
        objective = -losses.sum() if self.targeted else losses.sum()
        (grad,) = torch.autograd.grad(objective, x)
        return losses.detach(), grad

    def finish(self, x_adv: torch.Tensor) -> torch.Tensor:
        """Clip to the valid image range (on by default; ``clip=False`` follows the paper's unclipped eta)."""
        return x_adv.clamp_(0, 1) if self.clip else x_adv


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted class, its softmax confidence) for a batch, in eval mode, in chunks."""
    device = model_device(model)
    preds, confs = [], []
    with eval_mode(model), torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            probs = model(x[start:start + batch_size].to(device)).softmax(dim=1)
            conf, pred = probs.max(dim=1)
            preds.append(pred)
            confs.append(conf)
    return torch.cat(preds), torch.cat(confs)
