"""EOT, Expectation over Transformation (Athalye, Engstrom, Ilyas & Kwok 2018; used against randomised
defences in Athalye, Carlini & Wagner 2018, section 4.2): attack the *expected* output of a randomised model,
estimated by averaging its logits over ``samples`` draws. The gradient of the average is the average of the
gradients, so an attack sees E_t[grad f(t(x))] instead of one noisy draw.

``generator`` (a seeded ``torch.Generator``) is handed to every randomised submodule (``randomized = True``, a
``generator`` attribute: :class:`advkit.defenses.DefenseGAN`), so an EOT attack is reproducible.

Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> mean logits ``[B, classes]``.

    >>> model = EOT(Defended(classifier, BPDA(DefenseGAN(G))), samples=8, generator=torch.Generator().manual_seed(0))
    >>> x_adv = PGD(model, eps=0.3)(x, y)
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.errors import AdvkitError


class EOT(nn.Module):
    differentiable = True
    randomized = False  # its own output is the (estimated) expectation

    def __init__(self, model: nn.Module, samples: int = 8, generator: torch.Generator | None = None):
        super().__init__()
        if samples < 1:
            raise AdvkitError(f"EOT needs samples >= 1; got {samples}")
        self.model, self.samples = model, samples
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        for module in model.modules():
            if getattr(module, "randomized", False) and hasattr(module, "generator"):
                module.generator = self.generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = self.model(x)
        for _ in range(self.samples - 1):
            total = total + self.model(x)
        return total / self.samples
