"""A denoiser trained for a fixed classifier, for denoised smoothing (Salman, Sun, Yang, Kapoor & Kolter 2020,
"Denoised Smoothing: A Provable Defense for Pretrained Classifiers", sec. 3.2).

The classifier f stays frozen (eval mode, no weight gradients); the denoiser D is trained on Gaussian noise of
``--noise-std`` (unclipped, as randomized smoothing adds it) with

    loss = content_weight * ||D(x + delta) - x||^2  +  classifier_weight * CE(f(D(x + delta)), f(x))

Salman et al.'s stability objective is the second term (the classifier's own prediction on the clean image is the
label: no labels needed); their MSE objective is the first alone (plain ``denoise train --content-loss l2``); they
find the combination (MSE first, then stability) best. Model choice: ``best.pt`` is the checkpoint where the
classifier agrees most often on the held-out images (``--val-split``) between f(D(noisy)) and f(clean).
Everything else (data, noise, model, loop, checkpoints, resume) is :class:`advkit.train.denoise.DenoiseTrainer`'s;
this file writes only the step and the validation.

    advkit denoise train --data mnist --channels 1 --val-split 500 --noise-std 63.75 --classifier default \\
        --classifier-weight 1 --content-loss l2 --adv-weight 0
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from advkit.runtime.modules import eval_mode
from advkit.train.denoise import DenoiseTrainer


class StabilityDenoiseTrainer(DenoiseTrainer):
    def build(self) -> None:
        from advkit.models.loader import load_model

        super().build()
        self.classifier = load_model(self.config.classifier, self.device)
        self.best_agreement = -math.inf

    def train_step(self, step: int) -> dict[str, float]:
        c, opt = self.config, self.optimizers["G"]
        lr = c.lr * 0.5 * (1 + math.cos(math.pi * step / c.steps))  # cosine decay to 0, as DenoiseTrainer
        for group in opt.param_groups:
            group["lr"] = lr
        clean = self.data.sample(c.batch_size, self.generator)
        noisy, sigma = self._corrupt(clean, self.generator)
        with self._autocast():
            estimate = self._generate(noisy, sigma).float()
        content = self._content(estimate, clean)
        with torch.no_grad():
            target = self.classifier(clean).argmax(1)
        stability = F.cross_entropy(self.classifier(estimate), target)
        loss = c.content_weight * content + c.classifier_weight * stability
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss_g": loss.item(), "content": content.item(), "stability": stability.item(), "lr": lr}

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        if not self.val_set:
            return {}
        clean = torch.cat([item[1] for item in self.val_set]).to(self.device)
        noisy = torch.cat([item[2] for item in self.val_set]).to(self.device)
        with eval_mode(self.G), self._autocast():
            estimate = self._generate(noisy, self.val_set[0][3]).float()
        agreement = (self.classifier(estimate).argmax(1) == self.classifier(clean).argmax(1)).float().mean().item()
        mse = F.mse_loss(estimate.clamp(0, 1), clean).item()
        if agreement > self.best_agreement:
            self.best_agreement = agreement
            self.save(self.run.checkpoints / "best.pt")
        return {"val_agreement": agreement, "val_psnr": -10 * math.log10(max(mse, 1e-12))}

    def extra_state(self) -> dict:
        return {**super().extra_state(), "best_agreement": self.best_agreement}

    def load_extra_state(self, state: dict) -> None:
        super().load_extra_state(state)
        self.best_agreement = float(state.get("best_agreement", -math.inf))
