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
