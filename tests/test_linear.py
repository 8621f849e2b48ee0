"""The linearity demo: the textbook numbers, the eps*||w||_1 law, and breaking a real MNIST softmax regression."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from advkit.demos.linear import logistic_demo, target_success, templates, train_softmax_regression


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
def test_logistic_demo_numbers():
    demo = logistic_demo()
    # integer arithmetic in float64 and the paper's 4-digit probabilities (0.0474, 0.8808): 1e-4 is the printed
    # precision
    assert demo["score"] == pytest.approx(-3, abs=1e-4)
    assert demo["p"] == pytest.approx(0.0474, abs=1e-4)
    assert demo["score_adv"] == pytest.approx(2, abs=1e-4)
    assert demo["p_adv"] == pytest.approx(0.8808, abs=1e-4)
    assert demo["score_shift"] == pytest.approx(0.5 * 10, abs=1e-4)


@pytest.mark.numerics  # float results against a reference or closed form (CI reruns under ATEN_CPU_CAPABILITY=default)
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 50), eps=st.floats(0, 2), seed=st.integers(0, 2**16))
def test_score_moves_by_eps_times_l1_norm(n, eps, seed):
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(n, generator=g), torch.randn(n, generator=g)
    demo = logistic_demo(tuple(x.tolist()), tuple(w.tolist()), eps)
    # w.eps*sign(w) = eps * |w|_1: the score difference vs a float32 |w|_1 of n <= 50 terms (~50 * 6e-8 = 3e-6
    # worst, ~4e-7 typical relative): rel 1e-6 held over hypothesis' draws; abs 1e-6 covers eps near 0
    assert demo["score_adv"] - demo["score"] == pytest.approx(eps * w.abs().sum().item(), rel=1e-6, abs=1e-6)


@pytest.fixture(scope="module")
def softmax_on_mnist():
    from advkit.data import load_dataset

    torch.manual_seed(0)
    train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test").subset(500)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:1000]  # the subset is class-sorted
    model = train_softmax_regression(train.images[idx], train.labels[idx], epochs=10)
    return model, test


def test_softmax_regression_learns_and_templates_have_the_right_shape(softmax_on_mnist):
    model, test = softmax_on_mnist
    error = (model(test.images).argmax(1) != test.labels).float().mean().item()
    assert error < 0.2
    assert templates(model).shape == (10, 1, 28, 28)


def test_breaking_a_linear_classifier(softmax_on_mnist):
    model, test = softmax_on_mnist
    rows = target_success(model, test.images, test.labels, target=3, eps_list=[0.0, 0.05, 0.15, 0.3])
    rates = [r["success_rate"] for r in rows]
    assert rates == sorted(rates)  # for a linear model a larger step along the templates never hurts on average
    assert rates[0] < 0.1 and rates[-1] > 0.8


def test_cli_linear(cli, tmp_path):
    result = cli("linear", "--n", "300", "--epochs", "2", "--eps", "0.1,0.3", "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    # the paper's 4-digit probability
    assert data["logistic_demo"]["p"] == pytest.approx(0.0474, abs=1e-4)
    assert "0.0474" in result.stdout and "0.8808" in result.stdout
    assert len(data["softmax_regression"]["rows"]) == 2
    for name in ("templates.png", "targeted_digits.png", "success_vs_eps.png"):
        assert (tmp_path / "run" / "images" / name).stat().st_size > 1000


def test_cli_linear_bad_target_is_one_line(cli, tmp_path):
    result = cli("linear", "--target", "12", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "--target" in result.stderr and "Traceback" not in result.output
