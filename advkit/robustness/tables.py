"""The paper's two metrics under attack: error rate, and mean confidence on the wrong answers (section 5/6).

For each eps: clean error, FGSM error, the mean softmax confidence the model puts on its (wrong) answer
for the adversarial examples it misclassifies, and PGD error (so no claim rests on FGSM alone).

    >>> rows = robustness(model, test.images, test.labels, eps_list=[0.1, 0.25], pgd_steps=20)
    >>> rows[0]   # {"eps": 0.1, "fgsm_error": ..., "fgsm_wrong_confidence": ..., "pgd_error": ..., ...}
"""

from __future__ import annotations

import torch
from torch import nn

from advkit.attacks import FGSM, PGD, predict


def _error_and_confidence(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int | None = None,
                          progress=None) -> tuple[float, float]:
    if progress is None:
        pred, conf = predict(model, x)
    else:  # in batches through the progress bar (10k images through a maxout net take seconds on one thread)
        step = batch_size or x.shape[0]
        parts = [predict(model, x[s:s + step]) for s in progress(range(0, x.shape[0], step), "clean")]
        pred, conf = torch.cat([p for p, _ in parts]), torch.cat([c for _, c in parts])
    wrong = pred != y.to(pred.device)
    mean_conf = conf[wrong].mean().item() if wrong.any() else float("nan")
    return wrong.float().mean().item(), mean_conf


def robustness(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps_list: list[float],
               pgd_steps: int = 20, pgd_restarts: int = 1, batch_size: int = 500, clip: bool = True,
               seed: int = 0, progress=None, amp: bool = False) -> list[dict[str, float]]:
    """One row per eps: clean/FGSM/PGD error (fractions) and mean confidence on wrong answers."""
    generator = torch.Generator().manual_seed(seed)  # PGD's random starts: the same for every call
    clean_error, clean_conf = _error_and_confidence(model, images, labels, batch_size, progress)
    rows = []
    for eps in eps_list:
        fgsm_x, pgd_x = [], []
        fgsm = FGSM(model, eps, clip=clip, amp=amp)
        pgd = (PGD(model, eps, steps=pgd_steps, restarts=pgd_restarts, clip=clip, generator=generator, amp=amp)
               if pgd_steps else None)
        chunks = range(0, images.shape[0], batch_size)
        for start in (progress(chunks, f"eps={eps:g}") if progress else chunks):
            x, y = images[start:start + batch_size], labels[start:start + batch_size]
            fgsm_x.append(fgsm(x, y))
            if pgd is not None:
                pgd_x.append(pgd(x, y))
        fgsm_error, fgsm_conf = _error_and_confidence(model, torch.cat(fgsm_x), labels)
        row = {"eps": eps, "clean_error": clean_error, "clean_wrong_confidence": clean_conf,
               "fgsm_error": fgsm_error, "fgsm_wrong_confidence": fgsm_conf}
        if pgd is not None:
            row["pgd_error"], row["pgd_wrong_confidence"] = _error_and_confidence(model, torch.cat(pgd_x), labels)
        rows.append(row)
    return rows
