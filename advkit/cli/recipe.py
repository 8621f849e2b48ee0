"""``advkit recipe list|run``: one command per published result, with a report beside the paper's figure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from advkit.errors import AdvkitError


@click.group("recipe")
def command() -> None:
    """Reproduce published results: `advkit recipe list`, `advkit recipe run NAME [--smoke]`."""


@command.command("list")
def list_() -> None:
    """Every recipe: what it reproduces, the paper, the published figure, expected time on CPU and GPU."""
    from advkit.recipes import all_recipes

    table = Table(title="advkit recipes (advkit recipe run NAME)")
    for col in ("name", "reproduces", "paper", "published", "CPU", "GPU"):
        table.add_column(col, overflow="fold")
    for r in all_recipes():
        published = "; ".join(f"{k}: {v}" for k, v in r.meta.get("published", {}).items())
        table.add_row(r.name, r.meta.get("reproduces", r.title), r.meta.get("paper", ""), published,
                      r.meta.get("cpu-time", "?"), r.meta.get("gpu-time", "?"))
    Console(width=160).print(table)


def repeatable_options(recipe_command: list[str]) -> set[str]:
    """Option names (no dashes) that the command takes several times, e.g. ``denoise eval --set A --set B``."""
    from advkit.cli.main import cli

    command: click.Command | None = cli
    ctx = click.Context(cli)
    for part in recipe_command:
        command = command.get_command(ctx, part) if isinstance(command, click.Group) else None
        if command is None:
            return set()
    return {opt.lstrip("-") for p in command.params if getattr(p, "multiple", False) for opt in p.opts}


def recipe_argv(recipe_command: list[str], options: dict[str, Any], repeatable: set[str] = frozenset()) -> list[str]:
    """The exact command line a recipe stands for (shown in the report, so anyone can rerun it).

    A list is one comma-separated value (``eps = [0.1, 0.25]`` -> ``--eps 0.1,0.25``), except for a repeatable
    option, which is given once per item (``set = ["A", "B"]`` -> ``--set A --set B``)."""
    argv = list(recipe_command)
    for key, value in options.items():
        if isinstance(value, bool):
            argv.append(f"--{key}" if value else f"--no-{key}")
        elif isinstance(value, list) and key in repeatable:
            for item in value:
                argv += [f"--{key}", str(item)]
        elif isinstance(value, list):
            argv += [f"--{key}", ",".join(map(str, value))]
        else:
            argv += [f"--{key}", str(value)]
    return argv


@command.command()
@click.argument("name")
@click.option("--smoke", is_flag=True, help="Same code path on tiny settings, in seconds.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run directory (default runs/recipe-NAME-<time>).")
@click.option("--device", default=None, help="Override the recipe's device: auto | cpu | cuda[:N].")
def run(name: str, smoke: bool, out: str | None, device: str | None) -> None:
    """Run recipe NAME end to end and write report.md (published figure beside advkit's) in its run directory."""
    from advkit.cli.main import cli
    from advkit.recipes import find_recipe
    from advkit.report import build_report, write_report

    recipe = find_recipe(name)
    options = recipe.smoke_options() if smoke else dict(recipe.options)
    if device:
        options["device"] = device
    run_dir = Path(out or f"runs/recipe-{recipe.name}{'-smoke' if smoke else ''}-{time.strftime('%Y%m%d-%H%M%S')}")
    options["out"] = str(run_dir)
    argv = recipe_argv(recipe.command, options, repeatable_options(recipe.command))
    console = Console()
    console.print(f"[bold]{recipe.title}[/]: advkit {' '.join(argv)}")
    try:
        cli.main(args=argv, standalone_mode=False, prog_name="advkit")
    except click.UsageError as e:
        raise AdvkitError(f"recipe {recipe.path.name} does not fit `advkit {' '.join(recipe.command)}`: {e.format_message()}") from None
    report = build_report(recipe, run_dir, argv, smoke)
    path = write_report(report, run_dir)
    table = Table(title=f"{recipe.title}{' (smoke)' if smoke else ''}")
    for col in ("figure", "published", "advkit"):
        table.add_column(col)
    from advkit.report import _fmt

    for row in report["rows"]:
        table.add_row(row["figure"], str(row["published"]), _fmt(row["advkit"]))
    console.print(table)
    console.print(f"report: {path}")
