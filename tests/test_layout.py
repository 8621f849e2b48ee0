"""The architecture, checked: the floors as the imports draw them, no arrow up, no import circle, no string import
the test cannot see, small files.

Each top-level part of advkit (a package or a module) sits on a floor: one above the highest floor it imports
(0 when it imports nothing of advkit). Imports go to the part's own package or to a lower floor, never sideways or
up; the table below must equal what the imports draw, so docs/ARCHITECTURE.md's picture cannot drift. String
imports count: every string naming an advkit module (``"advkit.attacks.pgd:PGD"`` in a catalog row) is an
import; the model registry's plugin table (``advkit.models.registry.MODEL_MODULES``, modules that register
themselves) is checked on its own; a dynamic ``importlib.import_module(...)`` is allowed only in the modules
listed in ``DYNAMIC_IMPORTS``, each of which imports from a table this test reads.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "advkit"
FLOORS = {"errors": 0, "version": 0,
          "values": 1, "runtime": 1, "recipes": 1,
          "data": 2,
          "models": 3, "report": 3,
          "attacks": 4, "denoise": 4, "gan": 4,
          "robustness": 5, "defenses": 5,
          "demos": 6, "certify": 6,
          "train": 7,
          "commands": 8,
          "cli": 9, "defaults": 9, "api": 9,
          "__init__": 10}
# Modules whose importlib.import_module(...) takes a computed name, and the table it comes from.
DYNAMIC_IMPORTS = {
    "advkit": "the lazy public API: names listed in its TYPE_CHECKING imports",
    "advkit.runtime.lazy": "lazy package names: each package's TYPE_CHECKING imports (attacks, defenses)",
    "advkit.attacks.catalog": "catalog rows: 'module:Class' strings (read here)",
    "advkit.defenses.catalog": "catalog rows: 'module:callable' strings (read here)",
    "advkit.gan.loss_catalog": "catalog rows: 'module:function' strings (read here)",
    "advkit.commands": "COMMANDS rows: module strings (read here)",
    "advkit.models.registry": "MODEL_MODULES (checked by test_the_model_registry_table_is_complete)",
    "advkit.models.loader": "a user's package.module:callable (not advkit code)",
}
MODULE_STRING = re.compile(r"^(advkit(?:\.\w+)+)(?::[\w.]+)?$")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _registry_table() -> set[str]:
    tree = ast.parse((PACKAGE / "models" / "registry.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "MODEL_MODULES" for t in node.targets):
            return {e.value for e in node.value.elts}
    raise AssertionError("advkit/models/registry.py has no MODEL_MODULES table")


def _imports(path: Path, top_level_only: bool = False) -> list[tuple[str, list[str]]]:
    """(module, imported names) for every ``import advkit...`` in a file; with ``top_level_only`` False also every
    string naming an advkit module (a catalog row), except the registry's plugin table."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    plugins = _registry_table() if path == PACKAGE / "models" / "registry.py" else set()
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("advkit"):
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("advkit")]
        elif (not top_level_only and isinstance(node, ast.Constant) and isinstance(node.value, str)
              and MODULE_STRING.match(node.value) and node.value not in plugins):
            found.append((MODULE_STRING.match(node.value).group(1), []))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _floor(module: str) -> int:
    return FLOORS[_part(module)]


def _drawn_floors() -> dict[str, int]:
    """Each part's floor as the imports draw it: 0, or one above the highest part it imports."""
    deps: dict[str, set[str]] = {}
    for m, path in _modules().items():
        deps.setdefault(_part(m), set()).update(_part(t) for t, _ in _imports(path) if _part(t) != _part(m))
    drawn: dict[str, int] = {}

    def floor(part: str, stack: tuple = ()) -> int:
        assert part not in stack, f"parts import each other: {' -> '.join(stack + (part,))}"
        if part not in drawn:
            drawn[part] = 1 + max((floor(d, stack + (part,)) for d in deps.get(part, ())), default=-1)
        return drawn[part]

    for part in deps:
        floor(part)
    return drawn


def test_every_top_level_part_has_a_floor():
    assert {_part(m) for m in _modules()} == set(FLOORS)


def test_the_floors_are_what_the_imports_draw():
    drawn = _drawn_floors()
    wrong = {part: (FLOORS[part], drawn[part]) for part in FLOORS if drawn.get(part) != FLOORS[part]}
    assert not wrong, f"(table, drawn) floors differ: {wrong}; update FLOORS here and docs/ARCHITECTURE.md"


def test_no_import_points_up_or_sideways():
    wrong = [(m, target) for m, path in _modules().items() for target, _ in _imports(path)
             if _part(target) != _part(m) and _floor(target) >= _floor(m)]
    assert not wrong, wrong


def test_every_string_import_names_a_module():
    modules = _modules()
    missing = [(m, t) for m, path in modules.items() for t, _ in _imports(path) if t not in modules
               and t.rsplit(".", 1)[0] not in modules]  # ``from advkit.x import name``: the module is advkit.x
    assert not missing, missing


def test_dynamic_imports_only_read_tables():
    users = {m for m, path in _modules().items() for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and "import_module" in ast.unparse(node.func)
             and not (node.args and isinstance(node.args[0], ast.Constant))}
    assert users <= set(DYNAMIC_IMPORTS), users - set(DYNAMIC_IMPORTS)


def test_the_model_registry_table_is_complete():
    """MODEL_MODULES lists exactly the modules that register models (so a checkpoint can rebuild any of them)."""
    registering = {m for m, path in _modules().items() if m != "advkit.models.registry"
                   and "@register_model(" in path.read_text()}
    assert _registry_table() == registering


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
