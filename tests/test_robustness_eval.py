"""The robustness-evaluation library: every model and data spec kind, the per-point worst case, the diagnostics on
a healthy and a gradient-masked model, the report, and bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.robustness import check_pair, evaluate_robustness, load_data, load_model, write_report
from advkit.robustness import evaluate as evaluate_module
from advkit.robustness.diagnostics import black_box_beats_white_box, fgsm_beats_pgd

TINY_MODULE = '''
import torch
from torch import nn

def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

def not_a_model():
    return 42
'''


@pytest.fixture(scope="module")
def digits():
    return load_data("mnist", n=64, seed=0)


@pytest.fixture(scope="module")
def default_model():
    return load_model("default", "cpu")


def tiny_cnn() -> nn.Module:
    from advkit.models.registry import build_model

    torch.manual_seed(0)
    return build_model("cnn", {"channels": 4, "hidden": 16}).eval()


def _evaluate_once(model, x, y) -> dict:
    results = evaluate_robustness(model, x[:16], y[:16], [0.1], attacks=["fgsm"], diagnostics=False)
    assert results["n"] == 16 and set(results["robust_accuracy"]["0.1"]) == {"fgsm", "worst_case"}
    assert 0 <= results["robust_accuracy"]["0.1"]["worst_case"] <= results["clean_accuracy"] <= 1
    return results


# ---------------------------------------------------------------------------------------------- model specs
def test_every_model_spec_kind_loads_and_evaluates(tmp_path, monkeypatch, digits):
    from advkit.runtime.checkpoint import save_checkpoint

    x, y = digits
    net = tiny_cnn()
    reference = net(x[:4])
    save_checkpoint(tmp_path / "net.pt", step=0, config={}, models={"net": net})
    with warnings.catch_warnings():  # torch.jit is deprecated, but TorchScript files still exist
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net, x[:2])
    traced.save(str(tmp_path / "traced.pt"))  # a .pt name: recognised by its archive, not its suffix
    traced.save(str(tmp_path / "traced.ts"))
    (tmp_path / "tiny_models.py").write_text(TINY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    for spec in (str(tmp_path / "net.pt"), str(tmp_path / "traced.pt"), str(tmp_path / "traced.ts")):
        model = load_model(spec, "cpu")
        # the same weights loaded three ways (state dict, traced, TorchScript): fused vs unfused ops round
        # differently (~1e-7 on O(1) logits)
        assert torch.allclose(model(x[:4]), reference, atol=1e-5), spec
        _evaluate_once(model, x, y)
    _evaluate_once(load_model("default", "cpu"), x, y)
    linear = load_model("tiny_models:build", "cpu")
    assert isinstance(linear, nn.Sequential) and not any(p.requires_grad for p in linear.parameters())
    _evaluate_once(linear, x, y)
    normalized = load_model("tiny_models:build", "cpu", mean=(0.5,), std=(0.25,))
    # normalisation inside vs outside: (x - m) / s rounds once either way; the linear layer's sum ~1e-7
    assert torch.allclose(normalized(x[:4]), linear((x[:4] - 0.5) / 0.25), atol=1e-5)


def test_torchvision_models_come_only_from_the_cache(tmp_path):
    import torchvision

    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    try:
        with pytest.raises(AdvkitError, match="not cached"):
            load_model("torchvision:squeezenet1_1", "cpu")
        weights = torchvision.models.get_model_weights("squeezenet1_1").DEFAULT
        cached = tmp_path / "hub" / "checkpoints" / weights.url.rsplit("/", 1)[1]
        cached.parent.mkdir(parents=True)
        torch.save(torchvision.models.squeezenet1_1(weights=None).state_dict(), cached)  # stand-in weights
        model = load_model("torchvision:squeezenet1_1", "cpu")
        assert model(torch.rand(1, 3, 64, 64)).shape == (1, 1000)
        with pytest.raises(AdvkitError, match="already include"):
            load_model("torchvision:squeezenet1_1", "cpu", mean=(0.5,) * 3, std=(0.2,) * 3)
    finally:
        torch.hub.set_dir(old)


# ---------------------------------------------------------------------------------------------- data specs
def test_every_data_spec_kind(tmp_path, default_model):
    from PIL import Image

    x, y = load_data("mnist", n=20, seed=1)
    assert x.shape == (20, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.long
    assert torch.equal(load_data("mnist", n=20, seed=1)[1], y) and not torch.equal(load_data("mnist", n=20, seed=2)[0], x)
    try:
        fx, fy = load_data("fashion-mnist", n=8)
        assert fx.shape == (8, 1, 28, 28)
    except AdvkitError as e:
        assert "not installed" in str(e)  # the Debian package is optional
    for label in (3, 7):  # ImageFolder: class names sorted, so "3" -> 0 and "7" -> 1
        (tmp_path / "folder" / str(label)).mkdir(parents=True)
        for i in range(2):
            img = (x[i, 0] * 255).round().byte().numpy()
            Image.fromarray(img).save(tmp_path / "folder" / str(label) / f"{i}.png")
    fx, fy = load_data(str(tmp_path / "folder"))
    assert fx.shape == (4, 3, 28, 28) and fy.tolist() == [0, 0, 1, 1]
    # images stored as 8-bit files: quantisation <= 0.5 / 255
    assert torch.allclose(fx[0, 0], x[0, 0], atol=1 / 255)
    torch.save({"x": x, "y": y}, tmp_path / "d.pt")
    np.savez(tmp_path / "d.npz", x=(x[:, 0].numpy() * 255).round().astype(np.uint8), y=y.numpy())  # [N, H, W] uint8
    for name in ("d.pt", "d.npz"):
        dx, dy = load_data(str(tmp_path / name))
        # as above
        assert dx.shape == x.shape and torch.equal(dy, y) and torch.allclose(dx, x, atol=1 / 255)
        assert check_pair(default_model, dx, dy) == 10


def test_bad_input_gives_one_line_errors(tmp_path, monkeypatch, digits, default_model):
    x, y = digits
    (tmp_path / "tiny_models.py").write_text(TINY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    cases = {
        "wrong shape": (lambda: torch.save({"x": torch.rand(4, 1, 1, 28, 28), "y": torch.zeros(4)}, tmp_path / "a.pt")
                        or load_data(str(tmp_path / "a.pt")), r"\[N, C, H, W\]"),
        "float labels": (lambda: torch.save({"x": torch.rand(4, 1, 28, 28), "y": torch.zeros(4)}, tmp_path / "b.pt")
                         or load_data(str(tmp_path / "b.pt")), "integer label"),
        "outside [0, 1]": (lambda: torch.save({"x": torch.rand(4, 1, 28, 28) * 2 - 1, "y": torch.zeros(4, dtype=torch.long)},
                                              tmp_path / "c.pt") or load_data(str(tmp_path / "c.pt")), r"outside \[0, 1\]"),
        "no x/y": (lambda: np.savez(tmp_path / "e.npz", images=np.zeros((2, 28, 28))) or load_data(str(tmp_path / "e.npz")),
                   "keys 'x'"),
        "unknown data": (lambda: load_data("cifar-99"), "neither"),
        "labels out of range": (lambda: check_pair(default_model, x[:4], torch.tensor([0, 1, 2, 10])), "10 outputs"),
        "wrong input size": (lambda: check_pair(default_model, torch.rand(2, 3, 32, 32), torch.zeros(2, dtype=torch.long)),
                             "rejects inputs"),
        "no such module": (lambda: load_model("no_such_pkg.models:build"), "cannot import"),
        "no such callable": (lambda: load_model("tiny_models:missing"), "no callable"),
        "not a module": (lambda: load_model("tiny_models:not_a_model"), "not a torch.nn.Module"),
        "missing file": (lambda: load_model(str(tmp_path / "none.pt")), "does not exist"),
        "not a checkpoint": (lambda: (tmp_path / "junk.pt").write_bytes(b"junk") and load_model(str(tmp_path / "junk.pt")),
                             "not an advkit checkpoint"),
        "a folder": (lambda: load_model(str(tmp_path)), "is a folder; pass a model file in it"),
        "mean without std": (lambda: load_model("default", mean=(0.5,)), "both --mean and --std"),
        "unknown attack": (lambda: evaluate_robustness(default_model, x, y, [0.1], attacks=["fgsm", "hopskip"]),
                           "unknown attack 'hopskip'"),
        "wrong norm": (lambda: evaluate_robustness(default_model, x, y, [0.5], attacks=["fgsm"], norm="l2"),
                       "not defined for the l2 norm"),
        "bad eps": (lambda: evaluate_robustness(default_model, x, y, [1.5], attacks=["fgsm"]), "eps"),
    }
    for case, (call, message) in cases.items():
        with pytest.raises(AdvkitError, match=message) as info:
            call()
        assert "\n" not in str(info.value), case


# ---------------------------------------------------------------------------------------------- evaluation
class Threshold(nn.Module):
    """Class 1 when pixel (0, 0) > 0.5, else class 0: attacks below just move that pixel."""

    def forward(self, x):
        p = x[:, 0, 0, 0]
        return torch.stack([0.5 - p, p - 0.5], dim=1)


class FoolsSome:
    """A stand-in attack that fools exactly the points whose id (pixel (1, 1) * 10) is in ``ids``."""

    def __init__(self, ids):
        self.ids = set(ids)

    def __call__(self, x, y):
        x = x.clone()
        hit = torch.tensor([round(v.item() * 10) in self.ids for v in x[:, 0, 1, 1]])
        x[hit, 0, 0, 0] = 0.9
        return x


def test_worst_case_is_taken_per_point(monkeypatch):
    x = torch.full((4, 1, 4, 4), 0.2)
    x[:, 0, 1, 1] = torch.arange(4) / 10
    y = torch.zeros(4, dtype=torch.long)
    fakes = {"fgsm": FoolsSome({0, 1}), "pgd": FoolsSome({2, 3})}
    monkeypatch.setattr(evaluate_module, "build_attack", lambda name, *args, **kw: fakes[name])
    results = evaluate_robustness(Threshold(), x, y, [0.1], attacks=["fgsm", "pgd"], diagnostics=False)
    row = results["robust_accuracy"]["0.1"]
    assert row == {"fgsm": 0.5, "pgd": 0.5, "worst_case": 0.0}  # each attack alone leaves half; together none
    assert results["clean_accuracy"] == 1.0 and results["attacks"] == ["fgsm", "pgd"]


def test_real_attacks_on_the_shipped_cnn_and_the_report(tmp_path, digits, default_model):
    x, y = digits[0][:32], digits[1][:32]
    calls = []
    results = evaluate_robustness(default_model, x, y, [0.05, 0.15], attacks=["fgsm", "pgd"], pgd_steps=10,
                                  batch_size=16, progress=lambda *a: calls.append(a))
    # after every block of 16 points: (label, points done, points in all, points/s, seconds left)
    labels = {c[0] for c in calls}
    assert labels == {f"eps={e} {a}" for e in ("0.05", "0.15") for a in ("fgsm", "pgd")}
    for label in labels:
        done = [c for c in calls if c[0] == label]
        assert done[-1][1] == done[-1][2] and done[-1][4] == 0 and all(c[3] > 0 for c in done)
    table = results["robust_accuracy"]
    for row in table.values():
        assert row["worst_case"] <= min(row["fgsm"], row["pgd"])
        assert row["pgd"] <= row["fgsm"] + 0.02  # PGD is the stronger attack
    assert table["0.15"]["worst_case"] <= table["0.05"]["worst_case"] <= results["clean_accuracy"]
    assert not [w for w in results["warnings"] if "skipped" not in w]  # a healthy model raises no alarm
    json.dumps(results)  # plain values only
    png, md = write_report(results, tmp_path, title="shipped CNN")
    from PIL import Image

    assert Image.open(png).size[0] > 100
    text = md.read_text()
    assert "| 0.05 |" in text and "| 0.15 |" in text and "worst_case" in text
    l2 = evaluate_robustness(default_model, x[:16], y[:16], [1.0, 2.0], attacks=["pgd", "deepfool"], norm="l2",
                             pgd_steps=10)
    assert l2["attacks"] == ["pgd-l2", "deepfool"]
    assert l2["robust_accuracy"]["2"]["worst_case"] <= l2["robust_accuracy"]["1"]["worst_case"]


def test_masked_gradients_are_flagged(digits, default_model):
    class Saturated(nn.Module):
        """Logits x 1e4: softmax saturates to one-hot, so the cross-entropy gradient is exactly zero."""

        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x) * 1e4

    x, y = digits
    results = evaluate_robustness(Saturated(default_model), x[:32], y[:32], [0.1, 0.3], attacks=["fgsm", "pgd"],
                                  pgd_steps=5)
    assert any("does not increase" in w for w in results["warnings"]), results["warnings"]


def test_diagnostic_rules_on_tables():
    table = {"0.3": {"pgd": 0.6, "apgd-ce": 0.5, "square": 0.3, "autoattack": 0.3, "worst_case": 0.3}}
    (warning,) = black_box_beats_white_box(table, 0.01)
    assert "square" in warning and "apgd-ce" in warning
    assert black_box_beats_white_box({"0.3": {"apgd-ce": 0.3, "square": 0.31, "worst_case": 0.3}}, 0.01) == []
    (warning,) = fgsm_beats_pgd({"0.1": {"fgsm": 0.2, "pgd": 0.5, "worst_case": 0.2}}, 0.01)
    assert "FGSM" in warning
    assert fgsm_beats_pgd({"0.1": {"fgsm": 0.5, "pgd": 0.2, "worst_case": 0.2}}, 0.01) == []
