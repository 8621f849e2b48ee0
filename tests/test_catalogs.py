"""Adding an extension is one new file plus one catalog row: a toy of each kind, registered here, is offered by the
command line (its --help) and runs. The catalogs themselves import without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from click.testing import CliRunner
from torch import nn

TOY_ATTACK = '''
"""A toy attack: moves every pixel by +eps (for the catalog test)."""
from advkit.attacks.base import Attack


class PlusEps(Attack):
    def perturb(self, x, y):
        return self.finish(x + self.eps)
'''


@pytest.fixture
def toy_module(tmp_path, monkeypatch):
    """Write ``toy_<kind>.py`` into an importable folder (the one new file)."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, text: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
        return name
    return write


def test_catalogs_import_without_torch():
    code = ("import sys, advkit.attacks.catalog, advkit.values; "
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))[:3]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_toy_attack_is_one_file_and_one_row(toy_module, monkeypatch):
    from advkit.attacks import catalog
    from advkit.cli.main import cli
    from advkit.robustness.evaluate import evaluate_robustness

    module = toy_module("toy_attack", TOY_ATTACK)
    # The one row (setitem: removed again after the test, as ``catalog.register(entry)`` would add it for good).
    monkeypatch.setitem(catalog.ATTACKS, "plus-eps",
                        catalog.AttackEntry("plus-eps", f"{module}:PlusEps", norms=("linf",), help="Toy: +eps."))
    help_text = CliRunner().invoke(cli, ["eval", "robustness", "--help"]).output
    assert "plus-eps" in " ".join(help_text.split())
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    x, y = torch.rand(8, 1, 2, 2) * 0.5, torch.randint(0, 3, (8,))
    results = evaluate_robustness(model, x, y, [0.0, 0.5], attacks="plus-eps,fgsm", diagnostics=False)
    assert results["attacks"] == ["plus-eps", "fgsm"]
    assert results["robust_accuracy"]["0"]["plus-eps"] == results["clean_accuracy"]
    with pytest.raises(Exception, match="not defined for the l2 norm"):
        evaluate_robustness(model, x, y, [0.5], attacks="plus-eps", norm="l2")


def test_every_catalog_attack_is_importable_and_an_attack():
    from advkit.attacks.base import Attack
    from advkit.attacks.catalog import ATTACKS

    for entry in ATTACKS.values():
        assert issubclass(entry.cls(), Attack), entry.name


TOY_LOSS = '''
"""A toy GAN loss: least squares (Mao et al. 2017), for the catalog test."""


def lsgan_d(r, f):
    return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean()


def lsgan_g(f):
    return 0.5 * ((f - 1) ** 2).mean()
'''


def test_a_toy_gan_loss_is_one_file_and_one_row(toy_module, monkeypatch, tmp_path):
    from advkit.api import GANConfig, train_gan
    from advkit.cli.main import cli
    from advkit.gan import loss_catalog
    from advkit.gan.losses import d_loss, g_loss

    module = toy_module("toy_loss", TOY_LOSS)
    monkeypatch.setitem(loss_catalog.GAN_LOSSES, "lsgan",
                        loss_catalog.GANLoss("lsgan", d=f"{module}:lsgan_d", g=f"{module}:lsgan_g", help="Toy."))
    assert "lsgan" in CliRunner().invoke(cli, ["gan", "train", "--help"]).output
    r, f = torch.tensor([2.0, 0.0]), torch.tensor([1.0, -1.0])
    assert d_loss("lsgan", r, f).item() == pytest.approx(0.5 * (1 + 1) / 2 + 0.5 * (1 + 1) / 2)
    assert g_loss("lsgan", f).item() == pytest.approx(0.5 * (0 + 4) / 2)
    config = GANConfig(arch="mlp", loss="lsgan", dataset="fake", steps=2, batch_size=8, sample_every=2,
                       eval_samples=200, grid=4, hidden=8)
    results = train_gan(config, out=str(tmp_path / "run"), quiet=True)
    assert results["loss"] == "lsgan"


def test_a_gan_loss_cannot_be_unknown_or_half_defined():
    from advkit.errors import AdvkitError
    from advkit.gan.loss_catalog import GANLoss
    from advkit.gan.losses import d_loss, g_loss
    from advkit.train.gan_config import GANConfig

    with pytest.raises(TypeError):
        GANLoss("half", d="advkit.gan.losses:logistic_d")  # no G term: not a row
    with pytest.raises(AdvkitError, match="needs both terms"):
        GANLoss("half", d="advkit.gan.losses:logistic_d", g="")
    for call in (lambda: d_loss("lsgan", torch.zeros(2), torch.zeros(2)), lambda: g_loss("lsgan", torch.zeros(2)),
                 lambda: GANConfig(loss="lsgan")):
        with pytest.raises(AdvkitError, match="--loss must be one of minimax, ns, wgan, wgan-gp, hinge"):
            call()


TOY_PURIFIER = '''
"""A toy purifier: halves the contrast around grey (differentiable), for the catalog test."""
from torch import nn


class Halve(nn.Module):
    differentiable, randomized = True, False

    def forward(self, x):
        return 0.5 * x + 0.25


def build():
    return Halve()


class Rounding(nn.Module):
    differentiable = False

    def forward(self, x):
        return x.round()
'''


def test_a_toy_purifier_is_one_file_and_one_row(toy_module, monkeypatch, tmp_path):
    from advkit.cli.main import cli
    from advkit.commands.eval_defense import DefenseConfig, run
    from advkit.defenses import catalog
    from advkit.defenses.specs import load_purifier

    module = toy_module("toy_purifier", TOY_PURIFIER)
    monkeypatch.setitem(catalog.PURIFIERS, "halve", catalog.PurifierEntry("halve", f"{module}:Halve", form="halve"))
    assert "halve" in " ".join(CliRunner().invoke(cli, ["eval", "defense", "--help"]).output.split())
    x = torch.rand(2, 1, 4, 4)
    assert torch.allclose(load_purifier("halve")(x), 0.5 * x + 0.25)
    results = run(DefenseConfig(purifier="halve", n=4, pgd_steps=1, autoattack=False, eot_samples=1),
                  out=str(tmp_path / "run"), quiet=True)
    assert results["differentiable"] is True and "white-box" in results["accuracy"]


def test_users_own_purifiers_torchscript_and_callable(toy_module, tmp_path):
    from advkit.defenses.specs import load_purifier
    from advkit.errors import AdvkitError

    package = tmp_path / "toypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "purifiers.py").write_text(textwrap.dedent(TOY_PURIFIER))
    module = "toypkg.purifiers"  # importable: the fixture put tmp_path on sys.path
    toy_module("unused", "")
    x = torch.rand(2, 1, 4, 4)
    own = load_purifier(f"{module}:build")  # a bare package.module:callable is the `module` row
    assert torch.allclose(own(x), 0.5 * x + 0.25) and own.differentiable
    assert load_purifier(f"module:{module}:Rounding").differentiable is False  # it says so: attacked through BPDA
    path = tmp_path / "halve.ts"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Hardtanh(0.0, 1.0))), str(path))
    scripted = load_purifier(str(path))
    assert scripted.differentiable and torch.equal(scripted(x), x)
    assert load_purifier(f"torchscript:{path}").differentiable
    with pytest.raises(AdvkitError, match="unknown purifier"):
        load_purifier("nope:1")
