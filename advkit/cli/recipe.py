"""``advkit recipe list|run`` (library: :mod:`advkit.recipes`, :mod:`advkit.commands.recipe`)."""

from __future__ import annotations

import click

from advkit.cli.common import AdvkitGroup, verbose_option


@click.group("recipe", cls=AdvkitGroup)
def command() -> None:
    """Reproduce published results: `advkit recipe list`, `advkit recipe run NAME [--smoke]`."""


@command.command("list")
@verbose_option
def list_(verbose: bool) -> None:
    """Every recipe: what it reproduces and its expected time on CPU (--verbose: the paper, the published
    figure, CPU and GPU times)."""
    import textwrap

    from rich.console import Console
    from rich.table import Table, box

    from advkit.cli.output import room_left, shorten
    from advkit.recipes import all_recipes

    console = Console()
    recipes = all_recipes()
    if verbose:  # one block per recipe, wrapped to the terminal: long texts never squeezed into cells
        for r in recipes:
            console.print(f"[bold]{r.name}[/]: {r.title}", highlight=False)
            published = "; ".join(f"{k}: {v}" for k, v in r.meta.get("published", {}).items())
            for label, text in (("reproduces", r.meta.get("reproduces", "")), ("paper", r.meta.get("paper", "")),
                                ("published", published), ("CPU", r.meta.get("cpu-time", "?")),
                                ("GPU", r.meta.get("gpu-time", "?"))):
                if text:
                    console.print("\n".join(textwrap.wrap(f"{label}: {text}", console.width - 1, initial_indent="  ",
                                                          subsequent_indent="    ")), highlight=False, soft_wrap=True)
        return
    table = Table(title="advkit recipe run NAME (--verbose: papers, published figures, GPU times)",
                  title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    cpu = [shorten(str(r.meta.get("cpu-time", "?")).split(" (")[0], 12) for r in recipes]
    title_w = room_left(console.width, max(len(r.name) for r in recipes), max(map(len, cpu)))
    for column in ("name", "CPU", "title"):
        table.add_column(column, no_wrap=True)
    for r, time_on_cpu in zip(recipes, cpu):
        table.add_row(r.name, time_on_cpu, shorten(r.title, title_w))
    console.print(table)


@command.command()
@click.argument("name")
@click.option("--smoke/--no-smoke", default=False, help="Same code path on tiny settings, in seconds.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run directory (default runs/recipe-NAME-<time>).")
@click.option("--overwrite/--no-overwrite", default=False, help="Empty a non-empty --out first.")
@click.option("--device", default=None, help="Override the recipe's device: auto | cpu | cuda[:N].")
@click.option("--quiet/--no-quiet", default=False, help="No progress bars; the report only.")
@click.option("--seeds", default=None, help="Run once per seed (comma list, e.g. 0,1,2) and report mean +- std, "
                                            "min and max of every figure.")
@click.option("--resume/--no-resume", default=False,
              help="Keep what already finished in --out (the run, or each seed's) and continue an interrupted "
                   "training from its last checkpoint; seeds run as separate processes into one --out this way.")
@click.option("--use", "uses", multiple=True, metavar="KEY=RUN_DIR",
              help="For a recipe that needs an earlier run ([recipe.requires]): take it from RUN_DIR instead of "
                   "running that recipe first (e.g. --use generator=runs/recipe-dcgan-mnist).")
@verbose_option
def run(name: str, smoke: bool, out: str | None, overwrite: bool, device: str | None, quiet: bool,
        seeds: str | None, resume: bool, uses: tuple[str, ...], verbose: bool) -> None:
    """Run recipe NAME end to end and write report.md (published figure beside advkit's) in its run directory."""
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table, box

    from advkit.cli.output import room_left, shorten, shown_path
    from advkit.commands.recipe import run_recipe, run_recipe_seeds
    from advkit.report import format_figure
    from advkit.data.paths import portable
    from advkit.runtime.rundir import plain, write_json

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
    write_json(run_dir / "results.json", portable(plain(outcome["results"])))
    console = Console(stderr=True)
    title = f"{report['title']}{' (smoke)' if smoke else ''}"
    if verbose:
        console.print(f"[bold]{report['title']}[/]: {report['command']}")
    console.print(title, style="italic", highlight=False)
    rows = [(row["figure"], str(row["published"]), format_figure(row["advkit"], row)) for row in report["rows"]]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("figure", "published", "advkit"):
        table.add_column(column, no_wrap=not verbose, overflow="fold")
    if not verbose:  # advkit's figure whole; the figure's name and the published text share what is left
        advkit_w = max(len(r[2]) for r in rows) if rows else 6
        room = room_left(console.width, advkit_w, 0) - 2
        fig_w = min(max(len(r[0]) for r in rows) if rows else 6, max(room // 2, room - max(len(r[1]) for r in rows)))
        rows = [(shorten(f, fig_w), shorten(p, room - fig_w), a) for f, p, a in rows]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"report: {shown_path(run_dir / 'report.md')} (published figures and command in full)",
                  highlight=False)
