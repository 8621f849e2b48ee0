"""Stronger white-box attacks on the points that survived `advkit eval defense --purifier denoiser:CKPT`.

A check for masked gradients behind a learned denoiser (docs/defenses.md, step 4): the points that survived every
attack of the evaluation (its ``results.json``: ``robust.worst_case``, same seeded points) are attacked again with
PGD of STEPS steps (default 100) and RESTARTS restarts (default 1), each adversarial image scored by the real
defended model ``classifier(clamp(D(x), 0, 1))``:

* white-box: through the denoiser as it is;
* clamp-BPDA: the same, but the output clamp's backward is the identity (most MNIST pixels leave the denoiser
  below 0 or above 1, where the clamp has no gradient);
* noise-smoothed: the gradient of the defended model at x + N(0, 0.1^2), 2 draws per step (the denoiser was trained
  on noisy digits, where its Jacobian is informative).

    python scripts/attack_denoiser_survivors.py RUN/results.json DENOISER_CKPT [CLASSIFIER]
"""

from __future__ import annotations

import json
import os
import sys
import time

import torch
from torch import nn

from advkit.attacks.pgd import PGD
from advkit.defenses.defended import Defended
from advkit.defenses.specs import load_purifier
from advkit.models.loader import load_model
from advkit.robustness.specs import load_data


class StraightClamp(torch.autograd.Function):
    """clamp(0, 1) forward, identity backward."""

    @staticmethod
    def forward(ctx, t):
        return t.clamp(0, 1)

    @staticmethod
    def backward(ctx, grad):
        return grad


class ClampBPDA(nn.Module):
    def __init__(self, classifier: nn.Module, denoiser: nn.Module):
        super().__init__()
        self.classifier, self.denoiser = classifier, denoiser

    def forward(self, x):
        return self.classifier(StraightClamp.apply(self.denoiser(x.contiguous(memory_format=torch.channels_last)).float()))


class NoiseSmoothed(nn.Module):
    def __init__(self, defended: nn.Module, sigma: float = 0.1, draws: int = 2):
        super().__init__()
        self.defended, self.sigma, self.draws = defended, sigma, draws

    def forward(self, x):
        noisy = torch.cat([x + self.sigma * torch.randn_like(x) for _ in range(self.draws)])
        return self.defended(noisy).view(self.draws, len(x), -1).mean(0)


def main(results_path: str, ckpt: str, classifier_spec: str = "default") -> None:
    results = json.loads(open(results_path).read())
    n, eps = results["n"], results["eps"]
    steps, restarts = int(os.environ.get("STEPS", 100)), int(os.environ.get("RESTARTS", 1))
    classifier = load_model(classifier_spec, "cpu")
    purifier = load_purifier(f"denoiser:{ckpt}")
    x, y = load_data("mnist", n, 0)
    alive = torch.tensor(results["robust"]["worst_case"])
    print(f"{int(alive.sum())} of {n} points survived the evaluation (worst case {results['accuracy']['worst_case']:.1%})")
    x, y = x[alive], y[alive]
    defended = Defended(classifier, purifier).eval()
    survive = torch.ones(len(x), dtype=torch.bool)
    for name, model in [("white-box PGD", defended), ("clamp-BPDA PGD", ClampBPDA(classifier, purifier.model)),
                        ("noise-smoothed PGD", NoiseSmoothed(defended))]:
        start = time.time()
        torch.manual_seed(0)  # the noise draws
        adv = PGD(model, eps=eps, steps=steps, restarts=restarts, generator=torch.Generator().manual_seed(0))(x, y)
        assert (adv - x).abs().max() <= eps + 1e-6
        with torch.no_grad():
            right = defended(adv).argmax(1) == y
        survive &= right
        print(f"{name}-{steps} x{restarts}: {int(right.sum())} of {len(x)} still right; {time.time() - start:.0f} s",
              flush=True)
    print(f"worst case over the evaluation and these: {int(survive.sum())} of {n} = {survive.sum().item() / n:.1%}")


if __name__ == "__main__":
    main(*sys.argv[1:])
