"""The advtrain report's "mean confidence on wrong answers" (Goodfellow et al. 2015, sec. 5 and 6: 97.6% on the
plain maxout net's FGSM mistakes, 81.4% after adversarial training) on cases computed by hand."""

import math

import pytest
import torch
from torch import nn

from advkit.robustness.tables import robustness

# Float results compared with a reference or a closed form (tolerances justified where asserted); CI also runs
# them under ATEN_CPU_CAPABILITY=default (.ci/run).
pytestmark = pytest.mark.numerics


class Threshold(nn.Module):
    """Two classes on a one-pixel image: logits (a (x - 1/2), -a (x - 1/2)), so class 0 iff x > 1/2 and the
    confidence of the answer is sigmoid(2 a |x - 1/2|). FGSM moves x by eps against the true class."""

    def __init__(self, a: float = 10.0):
        super().__init__()
        self.a = a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.a * (x.flatten(1)[:, :1] - 0.5)
        return torch.cat([z, -z], dim=1)


class Constant(nn.Module):
    """The same logits whatever the input (zero input gradient, so FGSM leaves the input as it is)."""

    def __init__(self, logits: list[float]):
        super().__init__()
        self.logits = torch.tensor(logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits + (0 * x).flatten(1).sum(1, keepdim=True)  # a real (not broadcast) zero gradient


def pixels(*values: float) -> torch.Tensor:
    return torch.tensor(values).view(-1, 1, 1, 1)


def test_fgsm_mistakes_confidence_by_hand():
    # label 0 at 0.6 -> 0.35 (flipped to class 1, margin 0.15); label 0 at 0.9 -> 0.65 (still right);
    # label 1 at 0.45 -> 0.70 (flipped to class 0, margin 0.20); label 1 at 0.2 -> 0.45 (still right)
    x, y = pixels(0.6, 0.9, 0.45, 0.2), torch.tensor([0, 0, 1, 1])
    [row] = robustness(Threshold(a=10.0), x, y, eps_list=[0.25], pgd_steps=0)
    sigmoid = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    assert row["clean_error"] == 0.0 and math.isnan(row["clean_wrong_confidence"])
    # fractions of counted points and float32 softmax of O(1) logits (~1e-7): 1e-6 bounds them
    assert row["fgsm_error"] == pytest.approx(0.5)
    # softmax of (z, -z) puts sigmoid(2 z) on the larger logit: margins 0.15 and 0.20 at a = 10
    assert row["fgsm_wrong_confidence"] == pytest.approx((sigmoid(3.0) + sigmoid(4.0)) / 2, abs=1e-6)


def test_confidence_counts_only_the_mistakes():
    # a constant model answers class 0 with softmax confidence p on every point; only labels != 0 are mistakes
    logits = [2.0, 0.5, -1.0]
    p = torch.tensor(logits).softmax(0)[0].item()
    x, y = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 0, 0, 1, 2, 0])
    [row] = robustness(Constant(logits), x, y, eps_list=[0.3], pgd_steps=3)
    for attack in ("clean", "fgsm", "pgd"):
        # as above
        assert row[f"{attack}_error"] == pytest.approx(2 / 6)
        assert row[f"{attack}_wrong_confidence"] == pytest.approx(p, abs=1e-6)


def test_fgsm_on_a_model_whose_input_gradient_is_broadcast():
    """x.sum() back-propagates an expanded view of one scalar: FGSM must not write into it in place."""
    import torch
    from advkit.attacks import FGSM

    class SumModel(torch.nn.Module):
        def forward(self, x):  # logits (s, -s) of s = sum(x): the input gradient is one value per image, expanded
            return torch.tensor([1.0, -1.0]) * x.sum((1, 2, 3), keepdim=True).flatten(1)

    x = torch.full((2, 1, 4, 4), 0.5)
    x_adv = FGSM(SumModel(), eps=0.1)(x, torch.tensor([0, 1]))
    # label 0 wants the sum down (its margin is 2 * sum), label 1 up: every pixel moves by eps in that direction
    # 0.5 -+ 0.1 rounded once in float32 (allclose's defaults are spare)
    assert torch.allclose(x_adv[0], torch.full((1, 4, 4), 0.4)) and torch.allclose(x_adv[1], torch.full((1, 4, 4), 0.6))
