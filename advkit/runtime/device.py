"""The one device selector: ``--device auto|cpu|cuda[:N]``.

Library code never calls ``.cuda()``; it asks this function once and lets tensors follow their model.

    >>> select_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import re

import torch

from advkit.errors import AdvkitError

_SPEC = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def select_device(spec: str = "auto") -> torch.device:
    """Resolve a device spec. ``auto`` picks CUDA when available, else the CPU."""
    spec = (spec or "auto").strip().lower()
    if not _SPEC.match(spec):
        raise AdvkitError(f"--device must be auto, cpu, cuda or cuda:N; got {spec!r}")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise AdvkitError(f"--device {spec} asked for CUDA but no CUDA device is available here; use --device cpu or auto")
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise AdvkitError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here (cuda:0..)")
    return torch.device(spec)


def configure_backends(device: torch.device, deterministic: bool) -> None:
    """Fast paths on CUDA (cudnn.benchmark, TF32) unless the run asked to be deterministic."""
    if device.type == "cuda" and not deterministic:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def to_device(x: torch.Tensor, device: torch.device | str, non_blocking: bool = True) -> torch.Tensor:
    """Copy to ``device``; host-to-GPU copies go through pinned memory and do not block the host.

    Pin a whole dataset once (:func:`advkit.data.tensors.place_dataset`) rather than every batch: pinning allocates."""
    device = torch.device(device)
    if device.type == "cuda" and x.device.type == "cpu":
        pinned = x if x.is_pinned() else x.pin_memory()
        return pinned.to(device, non_blocking=non_blocking)
    return x.to(device)
