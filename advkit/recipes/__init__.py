"""Recipes: one flat, commented TOML file per published experiment.

A recipe's top-level keys are exactly the option names of the command it runs (``d-steps = 5`` is
``--d-steps 5``), plus ``command``. Its ``[recipe]`` table says what it reproduces and how to read the
run's ``results.json``::

    command = "advtrain"            # runs `advkit advtrain`
    arch = "softmax"
    eps = 0.25

    [recipe]
    title = "FGSM on softmax regression"
    paper = "Goodfellow, Shlens & Szegedy 2015, sec. 5"
    cpu-time = "1 min"
    gpu-time = "10 s"
    [recipe.published]              # figure name -> the published value (text)
    "FGSM error, eps 0.25" = "99.9%"
    [recipe.measured]               # same figure name -> dotted path into results.json
    "FGSM error, eps 0.25" = "after.fgsm_error"
    [recipe.smoke]                  # overrides for `--smoke`: same code path, seconds
    steps = 2

A recipe that evaluates what another recipe trains names it in ``[recipe.requires]`` and refers to its run
directory as ``{key}`` in option values; ``advkit recipe run`` runs that recipe first (or takes ``--use
key=RUN_DIR``)::

    purifier = "defense-gan:{generator}/checkpoints/best.pt"
    [recipe.requires]
    generator = "dcgan-mnist"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advkit.errors import AdvkitError

RECIPES_DIR = Path(__file__).resolve().parent  # the TOML files ship in the package (recipes/ at the top is a link)
_META_KEYS = {"title", "reproduces", "paper", "data", "cpu-time", "gpu-time", "published", "measured", "smoke",
              "notes", "figures", "requires"}


def load_recipe(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a recipe file: flat TOML whose keys are CLI option names (plus ``command`` and a [recipe] table)."""
    path = Path(path)
    if not path.is_file():
        raise AdvkitError(f"recipe {path} does not exist; `advkit recipe list` shows the shipped recipes")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AdvkitError(f"recipe {path} is not valid TOML: {e}") from None


@dataclass
class Recipe:
    name: str
    path: Path
    command: list[str]  # e.g. ["gan", "train"]
    options: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.meta.get("title", self.name)

    def smoke_options(self) -> dict[str, Any]:
        return {**self.options, **self.meta.get("smoke", {})}


def recipes_dir() -> Path:
    if not RECIPES_DIR.is_dir():
        raise AdvkitError(f"recipes folder {RECIPES_DIR} is missing; recipes ship with the source checkout")
    return RECIPES_DIR


def parse_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    data = load_recipe(path)
    command = data.get("command")
    if not isinstance(command, str) or not command.strip():
        raise AdvkitError(f"recipe {path} has no `command = \"...\"` line naming the advkit command it runs")
    meta = data.get("recipe", {})
    if not isinstance(meta, dict):
        raise AdvkitError(f"recipe {path}: `recipe` must be a table ([recipe])")
    unknown = set(meta) - _META_KEYS
    if unknown:
        raise AdvkitError(f"recipe {path}: unknown [recipe] key(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(sorted(_META_KEYS))}")
    requires = meta.get("requires", {})
    if not isinstance(requires, dict) or not all(isinstance(v, str) for v in requires.values()):
        raise AdvkitError(f"recipe {path}: [recipe.requires] maps a name to a recipe (generator = \"dcgan-mnist\")")
    options = {k: v for k, v in data.items() if k not in ("command", "recipe")}
    return Recipe(path.stem, path, command.split(), options, meta)


def all_recipes() -> list[Recipe]:
    return [parse_recipe(p) for p in sorted(recipes_dir().glob("*.toml"))]


def find_recipe(name: str) -> Recipe:
    candidate = Path(name)
    if candidate.suffix == ".toml" and candidate.exists():
        return parse_recipe(candidate)
    path = recipes_dir() / f"{name}.toml"
    if not path.exists():
        names = ", ".join(r.name for r in all_recipes())
        raise AdvkitError(f"no recipe named {name!r}; known recipes: {names}")
    return parse_recipe(path)


def lookup(results: dict, dotted: str) -> Any:
    """``"after.fgsm_error"`` -> results["after"]["fgsm_error"]; None when absent."""
    node: Any = results
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
