"""Recipes: keys are option names, unknown keys and wrong types are errors, flags override the recipe."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
import pytest
from click.testing import CliRunner

from advkit.cli.common import config_from, options_from, session_options
from advkit.errors import AdvkitError
from advkit.recipes import all_recipes, lookup, parse_recipe
from advkit.runtime.session import RunConfig


@dataclass
class DemoConfig(RunConfig):
    steps: int = field(default=10, metadata={"help": "steps"})
    d_steps: int = 1
    lr: float = 2e-4
    loss: str = field(default="ns", metadata={"choices": ("ns", "wgan")})
    spectral_norm: bool = False


@click.command("demo")
@options_from(DemoConfig)
@session_options
def demo(**options):
    config = config_from(DemoConfig, options)
    click.echo(f"{config.steps} {config.d_steps} {config.lr} {config.loss} {config.spectral_norm} {config.seed}")


def _run(*args):
    return CliRunner().invoke(demo, list(args), standalone_mode=False, catch_exceptions=True)


def test_defaults_come_from_the_dataclass():
    result = _run()
    assert result.output.strip() == "10 1 0.0002 ns False 0"


def test_recipe_sets_values_and_flags_override(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('command = "demo"\n# a comment\nsteps = 500\nd-steps = 5\nloss = "wgan"\nspectral-norm = true\nseed = 3\n'
                      '[recipe]\ntitle = "t"\n')
    assert _run("--recipe", str(recipe)).output.strip() == "500 5 0.0002 wgan True 3"
    assert _run("--recipe", str(recipe), "--steps", "7", "--no-spectral-norm").output.strip() == "7 5 0.0002 wgan False 3"
    assert _run("--steps", "7", "--recipe", str(recipe)).output.strip().startswith("7 5")


def test_unknown_key_wrong_type_and_missing_file_are_errors(tmp_path):
    unknown = tmp_path / "u.toml"
    unknown.write_text("stepz = 5\n")
    result = _run("--recipe", str(unknown))
    assert isinstance(result.exception, click.ClickException) and result.exception.exit_code == 2
    assert "unknown key 'stepz'" in str(result.exception)
    wrong = tmp_path / "w.toml"
    wrong.write_text('steps = "many"\n')
    result = _run("--recipe", str(wrong))
    assert isinstance(result.exception, click.BadParameter) and "many" in str(result.exception)
    result = _run("--recipe", str(tmp_path / "missing.toml"))
    assert isinstance(result.exception, click.ClickException) and "does not exist" in str(result.exception)
    other = tmp_path / "o.toml"
    other.write_text('command = "gan train"\n')
    result = _run("--recipe", str(other))
    assert isinstance(result.exception, click.ClickException) and "is for `advkit gan train`" in str(result.exception)


def test_shipped_recipes_parse_and_name_known_meta(tmp_path):
    recipes = all_recipes()
    assert recipes, "recipes/ ships at least one recipe"
    for r in recipes:
        assert r.command and r.meta.get("title"), r.name
        assert set(r.meta.get("measured", {})) <= set(r.meta.get("published", {})) | set(r.meta.get("measured", {}))
    bad = tmp_path / "bad.toml"
    bad.write_text('command = "linear"\n[recipe]\ntitel = "typo"\n')
    with pytest.raises(AdvkitError, match="unknown \\[recipe\\] key"):
        parse_recipe(bad)


def test_lookup_follows_dotted_paths():
    results = {"after": {"fgsm_error": 0.18}, "eps": [{"error": 0.5}]}
    assert lookup(results, "after.fgsm_error") == 0.18
    assert lookup(results, "eps.0.error") == 0.5
    assert lookup(results, "after.missing") is None
