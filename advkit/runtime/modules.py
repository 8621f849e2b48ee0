"""Small helpers every part of advkit uses on modules: a scoped eval mode, the device and dtype of a model.

    >>> with eval_mode(G):            # no dropout noise, frozen batch-norm statistics ...
    ...     samples = G(z)
    >>> G.training                    # ... and the caller's mode comes back, even after an error
    True
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode for the block (attacks, sampling, validation); every module's own mode comes back afterwards.

    Each submodule's flag is saved and restored on its own, not re-derived from the top module's: a wrapper
    (``Normalized(net)``) may be in another mode than the net it wraps, and a frozen batch norm is kept in eval
    mode while its parent trains. ``model.train(flag)`` would overwrite both.
    """
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in flags:
            module.training = training  # this module only: .train() would recurse into the children


def model_device(model: nn.Module) -> torch.device:
    """Tensors follow the model (a parameter-free model runs on the CPU)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def model_dtype(model: nn.Module) -> torch.dtype:
    """The floating-point dtype the model computes in (its first floating parameter or buffer; float32 if none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32
