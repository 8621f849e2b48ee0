"""Small helpers every part of advkit uses on modules: a scoped eval mode, and the device a model lives on.

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
    """Eval mode for the block (attacks, sampling, validation); the caller's mode comes back afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    """Tensors follow the model (a parameter-free model runs on the CPU)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")
