"""GPU fast paths every trainer can share, each a no-op (or exact) on the CPU unless asked.

* Mixed precision (Micikevicius et al. 2018, "Mixed Precision Training"): matmuls and convolutions in 16 bits,
  weights, optimizer state and reductions in float32. bfloat16 keeps float32's 8-bit exponent, so it needs no
  loss scaling; GPUs without bf16 (before Ampere) get float16 and a :func:`grad_scaler` that rescales the
  loss so small gradients do not flush to zero. On the CPU, autocast is off unless ``cpu=True``: bf16 matmuls
  are slower than float32 on CPUs without AVX512-BF16/AMX and would only cost accuracy.
* channels_last (NHWC): cuDNN's tensor-core convolutions read NHWC natively; NCHW inputs get transposed on
  every call. Only 4-D tensors (conv weights, image batches) change layout; values never change.
* Pinned (page-locked) host memory lets a host-to-GPU copy run asynchronously (``non_blocking=True``) while the
  GPU computes; from pageable memory the copy is synchronous.
* Small datasets held on the device (MNIST is 31 MB as float32): a batch is one index operation on the GPU, no
  copy at all. :func:`choose_placement` decides (on the GPU when it fits a fraction of free memory, else pinned
  on the host); :func:`advkit.data.tensors.place_dataset` applies it to a dataset.

    >>> model = channels_last(model)                 # conv nets; call before building the optimizer
    >>> scaler = grad_scaler(device, amp_dtype(device, enabled=True))
    >>> with autocast(device, enabled=True):
    ...     loss = criterion(model(channels_last(x)), y)
    >>> scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Callable, ContextManager, Literal, TypeVar

import torch
from torch import nn


T = TypeVar("T", torch.Tensor, nn.Module)
Placement = Literal["device", "pinned", "host"]


def choose_amp_dtype(device_type: str, enabled: bool, cpu: bool = False,
                     bf16_supported: bool = True) -> torch.dtype | None:
    """The autocast dtype for a device type, or None for full float32 (the logic, free of any device)."""
    if not enabled:
        return None
    if device_type == "cuda":
        return torch.bfloat16 if bf16_supported else torch.float16
    if device_type == "cpu" and cpu:
        return torch.bfloat16
    return None


def amp_dtype(device: torch.device | str, enabled: bool, cpu: bool = False) -> torch.dtype | None:
    """:func:`choose_amp_dtype` for a real device (asks CUDA whether it supports bf16)."""
    device = torch.device(device)
    bf16 = device.type != "cuda" or torch.cuda.is_bf16_supported()
    return choose_amp_dtype(device.type, enabled, cpu, bf16)


def autocast(device: torch.device | str, enabled: bool = True, cpu: bool = False) -> ContextManager:
    """``torch.autocast`` in the dtype :func:`amp_dtype` picks; a null context when that is float32."""
    device = torch.device(device)
    dtype = amp_dtype(device, enabled, cpu)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


# ATEN_CPU_CAPABILITY / ONEDNN_MAX_CPU_ISA values that cap torch below native bf16: a run under them behaves
# like a CPU without AVX512-BF16/AMX (how CI and the tests simulate such a CPU on one that has them).
_NO_BF16_ATEN = ("default", "avx2", "avx", "zvector", "vsx", "sve")
_NO_BF16_ONEDNN = ("sse41", "avx", "avx2", "avx2_vnni", "avx512_core", "avx512_core_vnni")


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 dot products in hardware (AVX512-BF16 or AMX): there oneDNN's bf16
    convolutions run about 2x float32 (the shipped denoiser: 0.149 s vs 0.307 s per 481x321 image, one
    thread, bench/bench_denoise.py). Elsewhere bf16 is emulated and slower than float32.

    ``ATEN_CPU_CAPABILITY=default|avx2`` or ``ONEDNN_MAX_CPU_ISA=AVX2`` (torch's and oneDNN's own switches to
    use fewer instructions) count as no native bf16, so a test or CI can run as a plain AVX2 CPU would."""
    aten = os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower()
    onednn = (os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "").strip().lower()
    if aten.startswith(_NO_BF16_ATEN) or onednn in _NO_BF16_ONEDNN:
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


class Bf16UnavailableWarning(UserWarning):
    """bf16 was asked on a CPU without native bf16; the work runs in float32 instead."""


def native_bf16(device: torch.device | str, enabled: bool, option: str,
                warn: Callable[[str], None] | None = None) -> bool:
    """Whether a bf16 switch (``option``, e.g. ``--amp``) asked on ``device`` is honoured: always on a GPU, on a
    CPU only with native bf16. Elsewhere bf16 would be emulated (slower and less exact than float32), so the work
    runs in float32 and ``warn`` (default: a :class:`Bf16UnavailableWarning`) says so; never an error, so a
    recipe or default that asks for bf16 runs on every CPU. Call it once per command, not per batch."""
    if not enabled:
        return False
    if torch.device(device).type != "cpu" or cpu_has_native_bf16():
        return True
    message = (f"{option}: this CPU has no native bf16 (AVX512-BF16/AMX), where it would be emulated and slower; "
               "running in float32")
    if warn is None:
        warnings.warn(message, Bf16UnavailableWarning, stacklevel=2)
    else:
        warn(message)
    return False


def inference_autocast(device: torch.device | str, enabled: bool) -> ContextManager:
    """bf16 autocast for inference where it is a speed-up (a GPU, or a CPU with native bf16); float32 else
    (with a warning, :func:`native_bf16`: resolve ``enabled`` with it once per command to warn once)."""
    enabled = native_bf16(device, enabled, "--amp")
    return autocast(device, enabled=enabled, cpu=True)


def training_bf16(device: torch.device | str, enabled: bool, cpu: bool,
                  warn: Callable[[str], None] | None = None) -> bool:
    """Whether a trainer autocasts to bf16: on GPUs that support it (``--bf16``, the default), and on the CPU
    only when asked (``--cpu-bf16``) and native there (else float32 with a warning). bf16 only: float16 would
    need loss scaling, so GPUs without bf16 train in float32."""
    if enabled and cpu and torch.device(device).type == "cpu":
        cpu = native_bf16(device, True, "--cpu-bf16", warn)
    return amp_dtype(device, enabled, cpu) == torch.bfloat16


def grad_scaler(device: torch.device | str, dtype: torch.dtype | None) -> torch.amp.GradScaler:
    """Loss scaling, enabled only for float16 (bf16 and float32 do not underflow); a disabled scaler's
    ``scale``/``step``/``update`` are plain pass-throughs, so trainers call them unconditionally."""
    device = torch.device(device)
    return torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)


def channels_last(obj: T, enabled: bool = True) -> T:
    """A module or 4-D batch in NHWC memory layout (same values); anything else is returned unchanged."""
    if not enabled:
        return obj
    if isinstance(obj, nn.Module):
        return obj.to(memory_format=torch.channels_last)  # only 4-D parameters and buffers are affected
    if obj.dim() == 4:
        return obj.contiguous(memory_format=torch.channels_last)
    return obj


class ChannelsLastInputs(nn.Module):
    """``model`` in NHWC layout, fed NHWC batches: the same function, other kernels. On a CPU, max-pooling's NCHW
    kernel is several times slower than its NHWC one and mkldnn's convolutions are NHWC-native, so a conv net's
    forward and backward run up to 2x faster (bench/bench_autoattack.py --whole-command measures it)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = channels_last(model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(channels_last(x))


def has_conv2d(model: nn.Module) -> bool:
    return any(isinstance(m, (nn.Conv2d, nn.MaxPool2d)) or "Conv2d" in type(m).__name__ for m in model.modules())


def choose_placement(nbytes: int, device_type: str, free_bytes: int | None, fraction: float = 0.25) -> Placement:
    """Where a dataset of ``nbytes`` should live: on the GPU when it takes at most ``fraction`` of the free
    memory (the rest is for activations), else in pinned host memory; on the CPU, where it is."""
    if device_type != "cuda":
        return "host"
    if free_bytes is not None and nbytes <= fraction * free_bytes:
        return "device"
    return "pinned"
