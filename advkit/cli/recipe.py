"""``advkit recipe list|run`` (library: :mod:`advkit.recipes`, :mod:`advkit.commands.recipe`)."""

from __future__ import annotations

import click

from advkit.cli.common import AdvkitGroup


@click.group("recipe", cls=AdvkitGroup)
def command() -> None:
    """Reproduce published results: `advkit recipe list`, `advkit recipe run NAME [--smoke]`."""


@command.command("list")
def list_() -> None:
    """Every recipe: what it reproduces, the paper, the published figure, expected time on CPU and GPU."""
    from rich.console import Console
    from rich.table import Table

    from advkit.recipes import all_recipes

    table = Table(title="advkit recipes (advkit recipe run NAME)")
    for col in ("name", "reproduces", "paper", "published", "CPU", "GPU"):
        table.add_column(col, overflow="fold")
    for r in all_recipes():
        published = "; ".join(f"{k}: {v}" for k, v in r.meta.get("published", {}).items())
        table.add_row(r.name, r.meta.get("reproduces", r.title), r.meta.get("paper", ""), published,
                      r.meta.get("cpu-time", "?"), r.meta.get("gpu-time", "?"))
    Console(width=160).print(table)


@command.command()
@click.argument("name")
@click.option("--smoke", is_flag=True, help="Same code path on tiny settings, in seconds.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run directory (default runs/recipe-NAME-<time>).")
@click.option("--overwrite", is_flag=True, default=False, help="Empty a non-empty --out first.")
@click.option("--device", default=None, help="Override the recipe's device: auto | cpu | cuda[:N].")
@click.option("--quiet", is_flag=True, default=False, help="No progress bars; the report only.")
@click.option("--seeds", default=None, help="Run once per seed (comma list, e.g. 0,1,2) and report mean +- std, "
                                            "min and max of every figure.")
@click.option("--resume", is_flag=True, default=False,
              help="Keep what already finished in --out (the run, or each seed's) and continue an interrupted "
                   "training from its last checkpoint; seeds run as separate processes into one --out this way.")
@click.option("--use", "uses", multiple=True, metavar="KEY=RUN_DIR",
              help="For a recipe that needs an earlier run ([recipe.requires]): take it from RUN_DIR instead of "
                   "running that recipe first (e.g. --use generator=runs/recipe-dcgan-mnist).")
def run(name: str, smoke: bool, out: str | None, overwrite: bool, device: str | None, quiet: bool,
        seeds: str | None, resume: bool, uses: tuple[str, ...]) -> None:
    """Run recipe NAME end to end and write report.md (published figure beside advkit's) in its run directory."""
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from advkit.commands.recipe import run_recipe, run_recipe_seeds
    from advkit.report import format_figure
    from advkit.runtime.rundir import write_json

    if resume and not out:
        raise click.BadParameter("--resume continues the run in --out; name it (e.g. --out runs/my-recipe)")
    use = {}
    for item in uses:
        key, sep, folder = item.partition("=")
        if not sep or not key or not folder:
            raise click.BadParameter(f"--use takes KEY=RUN_DIR (e.g. generator=runs/recipe-dcgan-mnist); got {item!r}")
        use[key] = folder
    if seeds:
        try:
            seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            raise click.BadParameter(f"--seeds takes integers separated by commas, e.g. 0,1,2; got {seeds!r}") from None
        outcome = run_recipe_seeds(name, seed_list, smoke=smoke, out=out, device=device, quiet=quiet,
                                   overwrite=overwrite, use=use, resume=resume)
    else:
        outcome = run_recipe(name, smoke=smoke, out=out, device=device, quiet=quiet, overwrite=overwrite, use=use,
                             resume=resume)
    run_dir, report = Path(outcome["run"]), outcome["report"]
    write_json(run_dir / "results.json", outcome["results"])
    console = Console(stderr=True)
    console.print(f"[bold]{report['title']}[/]: {report['command']}")
    table = Table(title=f"{report['title']}{' (smoke)' if smoke else ''}")
    for col in ("figure", "published", "advkit"):
        table.add_column(col, overflow="fold")
    for row in report["rows"]:
        table.add_row(row["figure"], str(row["published"]), format_figure(row["advkit"], row))
    console.print(table)
    console.print(f"report: {run_dir / 'report.md'}")
