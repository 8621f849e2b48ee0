"""The architecture, checked: one floor per layer, no arrow back up, no import circle, small files.

    cli  ->  commands (+ defaults)  ->  trainers and algorithms  ->  data, models, runtime

A module may import its own floor or a lower one; click lives in advkit/cli only; no private name is imported
from another package.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "advkit"
FLOORS = {"cli": 4, "commands": 3, "defaults": 3, "train": 2, "gan": 2, "denoise": 2, "adversarial": 2, "attacks": 2,
          "robustness": 2, "defenses": 2, "certify": 2, "recipes": 2, "report": 2, "data": 1, "models": 1,
          "runtime": 1, "errors": 0, "values": 0, "version": 0, "api": 5, "__init__": 5}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, top_level_only: bool = False) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every ``import advkit...`` in a file."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("advkit"):
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("advkit")]
    return found


def _floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS[parts[1] if len(parts) > 1 else "__init__"]


def test_every_top_level_part_has_a_floor():
    assert {m.split(".")[1] for m in _modules() if "." in m} <= set(FLOORS)


def test_no_import_points_up_a_floor():
    wrong = [(m, target) for m, path in _modules().items() for target, _ in _imports(path)
             if _floor(target) > _floor(m)]
    assert not wrong, wrong


def test_click_lives_in_the_cli_only():
    users = [m for m, path in _modules().items() if not m.startswith("advkit.cli")
             and any(isinstance(n, (ast.Import, ast.ImportFrom)) and "click" in ast.unparse(n).split()
                     for n in ast.walk(ast.parse(path.read_text())))]
    assert not users, users


def test_no_private_name_is_imported_from_another_package():
    wrong = []
    for m, path in _modules().items():
        for target, names in _imports(path):
            same_package = target.rsplit(".", 1)[0] == m.rsplit(".", 1)[0]
            wrong += [(m, target, n) for n in names if n.startswith("_") and not n.startswith("__") and not same_package]
    assert not wrong, wrong


def test_no_import_circle():
    modules = _modules()
    graph = {m: {t for t, _ in _imports(p, top_level_only=True) if t in modules and t != m} for m, p in modules.items()}
    # Also ``from advkit.x import y`` where y is a submodule.
    for m, p in modules.items():
        for t, names in _imports(p, top_level_only=True):
            graph[m] |= {f"{t}.{n}" for n in names if f"{t}.{n}" in modules}
    done, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError(f"import circle: {' -> '.join(stack[stack.index(node):] + [node])}")
        if node in done:
            return
        stack.append(node)
        for nxt in graph[node]:
            visit(nxt)
        stack.pop()
        done.add(node)

    for m in graph:
        visit(m)


def test_no_file_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_recipes_and_offline_mnist_ship_inside_the_package():
    """A built wheel (not only an editable install) runs every recipe on the offline MNIST: both are package data."""
    import tomllib

    from advkit.data.mnist import OFFLINE_FILES
    from advkit.recipes import RECIPES_DIR

    assert RECIPES_DIR.is_relative_to(PACKAGE) and len(list(RECIPES_DIR.glob("*.toml"))) >= 20
    assert all((PACKAGE / "assets" / "mnist" / name).is_file() for name in OFFLINE_FILES)
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["advkit"]
    assert {"recipes/*.toml", "assets/mnist/*"} <= set(shipped)
