"""The linear explanation of adversarial examples (Goodfellow, Shlens & Szegedy 2015, section 3); the
10-dimensional numbers below are Karpathy's illustration of it (CS231n, 2015), not the paper's.

For a linear score w.x, the perturbation eta = eps * sign(w) moves the score by exactly
eps * ||w||_1: with n dimensions of average weight magnitude m that is eps * m * n, which grows with the
dimension while every pixel moves by at most eps (the L-inf norm of eta).

1. The logistic-regression demo (10 dimensions, the textbook numbers):
   x = [2,-1,3,-2,2,2,1,-4,5,1], w = [-1,-1,1,-1,1,-1,1,1,-1,1]: x.w = -3, P(y=1|x) = sigma(-3) = 0.0474;
   x + 0.5 w (= x + 0.5 sign(w), since |w_i| = 1) scores -3 + 0.5 * ||w||_1 = 2, P = sigma(2) = 0.8808.
2. Breaking a linear classifier on MNIST: a softmax regression's ten weight rows are class templates;
   the targeted FGSM step for target t is eps * sign(W^T (e_t - p)), i.e. towards template t and away from the others.

    >>> demo = logistic_demo()
    >>> round(demo["p_adv"], 4)
    0.8808
    >>> rows = target_success(model, images, labels, target=3, eps_list=[0.1, 0.2])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from advkit.attacks import FGSM, predict

DEMO_X = (2.0, -1.0, 3.0, -2.0, 2.0, 2.0, 1.0, -4.0, 5.0, 1.0)
DEMO_W = (-1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def logistic_demo(x: tuple[float, ...] = DEMO_X, w: tuple[float, ...] = DEMO_W, eps: float = 0.5) -> dict[str, float]:
    """The score and P(y=1) before and after x -> x + eps * sign(w); the score moves by eps * ||w||_1."""
    xt, wt = torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64)
    x_adv = xt + eps * wt.sign()
    score, score_adv = float(xt @ wt), float(x_adv @ wt)
    return {"score": score, "p": sigmoid(score), "eps": eps, "score_adv": score_adv, "p_adv": sigmoid(score_adv),
            "w_l1": float(wt.abs().sum()), "score_shift": eps * float(wt.abs().sum()), "dimensions": len(x),
            "x_adv": [round(v, 6) for v in x_adv.tolist()]}


def train_softmax_regression(images: torch.Tensor, labels: torch.Tensor, epochs: int = 20, lr: float = 0.5,
                             batch_size: int = 100, seed: int = 0) -> nn.Module:
    """Softmax regression by minibatch SGD on cross-entropy (a convex problem: a few epochs suffice)."""
    from advkit.models.classifiers import build_classifier

    torch.manual_seed(seed)
    model = build_classifier("softmax").to(images.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(images.shape[0], generator=generator).to(images.device)
        for start in range(0, images.shape[0], batch_size):
            idx = order[start:start + batch_size]
            loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def templates(model: nn.Module) -> torch.Tensor:
    """The ten weight rows of a softmax regression as ``[10, 1, 28, 28]`` images."""
    return model.linear.weight.detach().view(-1, 1, 28, 28)


def target_success(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, target: int,
                   eps_list: list[float]) -> list[dict[str, float]]:
    """Targeted FGSM towards ``target`` on every test digit of another class: success rate per eps."""
    keep = labels != target
    x, y = images[keep], labels[keep]
    targets = torch.full_like(y, target)
    rows = []
    for eps in eps_list:
        x_adv = FGSM(model, eps, targeted=True)(x, targets)
        pred, conf = predict(model, x_adv)
        hit = pred == target
        per_class = {int(c): hit[y.to(hit.device) == c].float().mean().item() for c in range(10) if c != target}
        rows.append({"eps": eps, "success_rate": hit.float().mean().item(),
                     "mean_target_confidence": conf[hit].mean().item() if hit.any() else float("nan"),
                     "success_by_true_class": per_class})
    return rows
