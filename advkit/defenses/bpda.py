"""BPDA, Backward Pass Differentiable Approximation (Athalye, Carlini & Wagner 2018, section 4.1): run the
non-differentiable purifier ``g`` on the forward pass, and on the backward pass use the gradient of a
differentiable ``h`` with ``h(x) ~ g(x)``. For purifiers built to change the image little, ``h(x) = x``
(``backward="identity"``) is the usual choice: the gradient of the loss at the purified point ``g(x)`` is passed
straight back to ``x``.

    d loss / d x  :=  (d loss / d g(x)) . (d h / d x)|_x          (identity: d loss / d g(x))

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``g(x)`` like ``x``.

    >>> purifier = BPDA(JPEG(quality=75))                             # identity backward
    >>> purifier = BPDA(MedianFilter(3), backward=nn.AvgPool2d(3, 1, 1, count_include_pad=False))
    >>> x_adv = PGD(Defended(classifier, purifier), eps=0.3)(x, y)
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.errors import AdvkitError


class _StraightThrough(torch.autograd.Function):
    """Forward: ``purifier(x)`` (no graph); backward: the vector-Jacobian product of ``approximation`` at ``x``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, purifier: nn.Module, approximation: nn.Module | None) -> torch.Tensor:
        ctx.approximation = approximation
        ctx.save_for_backward(x)
        with torch.no_grad():
            return purifier(x).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        if ctx.approximation is None:
            return grad_out, None, None
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(ctx.approximation(x), x, grad_out)
        return grad, None, None


class BPDA(nn.Module):
    """``purifier`` on the forward pass, the gradient of ``backward`` (``"identity"`` or a differentiable module
    approximating the purifier) on the backward pass. The wrapper is differentiable by construction and keeps
    the purifier's ``randomized`` flag."""

    differentiable = True

    def __init__(self, purifier: nn.Module, backward: str | nn.Module = "identity"):
        super().__init__()
        if not (backward == "identity" or isinstance(backward, nn.Module)):
            raise AdvkitError(f"BPDA backward must be 'identity' or a differentiable nn.Module; got {backward!r}")
        self.purifier = purifier
        self.approximation = None if isinstance(backward, str) else backward
        self.randomized = bool(getattr(purifier, "randomized", False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _StraightThrough.apply(x, self.purifier, self.approximation)
