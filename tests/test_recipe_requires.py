"""A recipe that evaluates another recipe's output ([recipe.requires], `recipe run --use KEY=RUN_DIR`), and
Defense-GAN behind a convolutional (DCGAN) generator, which the defense-gan-mnist recipe uses."""

from __future__ import annotations

import pytest
import torch

from advkit.commands.recipe import run_prerequisites, with_folders
from advkit.errors import AdvkitError
from advkit.recipes import find_recipe, parse_recipe

torch.set_num_threads(1)


def test_placeholders_take_the_prerequisites_run_directory():
    options = {"purifier": "defense-gan:{generator}/checkpoints/best.pt", "n": 200, "data": "mnist"}
    filled = with_folders(options, {"generator": "runs/g"})
    assert filled == {"purifier": "defense-gan:runs/g/checkpoints/best.pt", "n": 200, "data": "mnist"}
    assert with_folders(options, {}) == options


def test_defense_gan_recipe_needs_the_dcgan_recipe():
    recipe = find_recipe("defense-gan-mnist")
    assert recipe.meta["requires"] == {"generator": "dcgan-mnist"}
    assert "{generator}" in recipe.options["purifier"]
    find_recipe(recipe.meta["requires"]["generator"])  # the prerequisite is a shipped recipe


def test_use_takes_an_existing_run_and_refuses_unknown_keys_or_missing_folders(tmp_path):
    recipe = find_recipe("defense-gan-mnist")
    run = tmp_path / "eval"
    assert run_prerequisites(recipe, run, True, "cpu", True, False, {"generator": str(tmp_path)}) == \
        {"generator": str(tmp_path)}
    with pytest.raises(AdvkitError, match="needs generator"):
        run_prerequisites(recipe, run, True, "cpu", True, False, {"critic": str(tmp_path)})
    with pytest.raises(AdvkitError, match="no such run directory; run `advkit recipe run dcgan-mnist"):
        run_prerequisites(recipe, run, True, "cpu", True, False, {"generator": str(tmp_path / "absent")})


def test_requires_must_map_names_to_recipes(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('command = "eval defense"\n[recipe]\ntitle = "t"\n[recipe.requires]\ngenerator = 3\n')
    with pytest.raises(AdvkitError, match=r"\[recipe.requires\] maps a name to a recipe"):
        parse_recipe(bad)


def test_defense_gan_projects_onto_a_dcgan_generators_range():
    from advkit.defenses import DefenseGAN
    from advkit.gan.models import DCGANGenerator, DCGANGeneratorConfig

    torch.manual_seed(0)
    G = DCGANGenerator(DCGANGeneratorConfig(z_dim=8, base_channels=4)).eval()
    purifier = DefenseGAN(G, restarts=2, steps=5, lr=0.01, generator=torch.Generator().manual_seed(0))
    assert purifier.image_shape == (1, 28, 28)
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    out = purifier.project(x)
    assert out["x"].shape == x.shape and 0 <= out["x"].min() and out["x"].max() <= 1
    assert torch.all(out["history"][-1] <= out["history"][0])
    with pytest.raises(AdvkitError, match=r"makes \[1, 28, 28\] images"):
        purifier(torch.rand(1, 1, 12, 12))
