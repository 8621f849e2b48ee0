"""Defense-GAN (Samangouei, Kabkab & Chellappa 2018, "Defense-GAN: protecting classifiers against adversarial
attacks using generative models"): project the input onto the range of a generator G trained on clean data and
classify the projection. The projection runs ``restarts`` (R in the paper) gradient descents of ``steps`` (L in the
paper) steps each on z, from seeded draws of G's prior, and keeps, per image, the z with the smallest reconstruction
error:

    z* = argmin_z ||G(z) - x||_2^2        (L steps of z <- z - lr * grad, from R random z_0)
    x' = G(z*)

The projection is randomised (z_0) and, through L unrolled steps, impractical to differentiate: attack it with
BPDA (identity backward) and EOT (Athalye et al. 2018, section 5.4.1, found adversarial examples for it; its
robustness also rests on G's range missing the test images, which lowers its clean accuracy).

Needs an unconditional image generator (``advkit gan train``: :func:`advkit.gan.sampling.load_generator`) for
images of the classifier's shape. Plain gradient descent (not Adam) so that a small enough ``lr`` lowers the
error at every step. Shapes: ``x`` ``[B, C, H, W]`` in [0, 1] -> ``G(z*)`` like ``x``, in [0, 1].

    >>> G, _ = load_generator("runs/gan-train-.../checkpoints/final.pt", device)
    >>> purifier = DefenseGAN(G, restarts=4, steps=100, lr=0.01, generator=torch.Generator().manual_seed(0))
    >>> errors = purifier.project(x)["history"]                       # [steps + 1, B]: best error so far
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.errors import AdvkitError


class DefenseGAN(nn.Module):
    differentiable, randomized = False, True

    @classmethod
    def load(cls, path: str, device: torch.device | str = "cpu", seed: int = 0, gan_restarts: int = 4,
             gan_steps: int = 100, gan_lr: float = 0.01) -> "DefenseGAN":
        """Defense-GAN on the generator of a ``gan train`` checkpoint; restarts drawn from a generator seeded ``seed``."""
        from advkit.gan.sampling import generates_images, load_generator

        G, _ = load_generator(path, torch.device(device))
        if not generates_images(G):
            raise AdvkitError(f"--purifier defense-gan:{path}: the generator makes points, not images; pass an image "
                              "GAN checkpoint")
        return cls(G, gan_restarts, gan_steps, gan_lr, torch.Generator().manual_seed(seed))

    def __init__(self, G: nn.Module, restarts: int = 4, steps: int = 100, lr: float = 0.01,
                 generator: torch.Generator | None = None):
        super().__init__()
        if getattr(G.config, "num_classes", 0):
            raise AdvkitError("Defense-GAN needs an unconditional generator (trained without --num-classes)")
        if restarts < 1 or steps < 0 or not lr > 0:
            raise AdvkitError(f"Defense-GAN needs restarts >= 1, steps >= 0 and lr > 0; got {restarts}, {steps}, {lr}")
        self.G, self.restarts, self.steps, self.lr = G.eval(), restarts, steps, float(lr)
        for parameter in G.parameters():
            parameter.requires_grad_(False)
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        with torch.no_grad():  # the shape G makes, whatever its architecture (MLP, DCGAN, ...): one sample's
            self.image_shape = tuple(G.images(G.noise(1, torch.Generator().manual_seed(0))).shape[1:])

    def errors(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """||G(z) - x||_2^2 per image ``[B]``."""
        return (self.G.images(z) - x).flatten(1).pow(2).sum(1)

    def project(self, x: torch.Tensor) -> dict:
        """``{"x": G(z*) [B, C, H, W], "z": z* [B, z_dim], "error": [B], "history": [steps + 1, B]}``; the history
        holds, per step, the error of every restart's current z, the best over restarts."""
        x = x.detach()
        if tuple(x.shape[1:]) != self.image_shape:
            raise AdvkitError(f"the generator makes {list(self.image_shape)} images; the classifier's inputs "
                              f"are {list(x.shape[1:])}: train the GAN on the same data")
        b = x.shape[0]
        target = x.repeat(self.restarts, 1, 1, 1)  # restart r of image i at row r * B + i
        z = self.G.noise(b * self.restarts, self.generator).detach().requires_grad_(True)
        history = []
        with torch.enable_grad():
            for step in range(self.steps + 1):
                errors = self.errors(z, target)
                history.append(errors.detach().view(self.restarts, b).min(0).values)
                if step == self.steps:
                    break
                (grad,) = torch.autograd.grad(errors.sum(), z)
                z = (z - self.lr * grad).detach().requires_grad_(True)
        best = errors.detach().view(self.restarts, b).argmin(0)
        rows = best * b + torch.arange(b, device=best.device)
        z_star = z.detach()[rows]
        with torch.no_grad():
            images = self.G.images(z_star).clamp(0, 1)
        return {"x": images.to(x.dtype), "z": z_star, "error": errors.detach()[rows], "history": torch.stack(history)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x)["x"]
