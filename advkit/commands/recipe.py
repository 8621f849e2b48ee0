"""Running a recipe: the command it names, with its options, then a report beside the published figures.

    >>> from advkit.commands.recipe import run_recipe
    >>> outcome = run_recipe("ring-pacgan", smoke=True, out="runs/ring")
    >>> [(row["figure"], row["published"], row["advkit"]) for row in outcome["report"]["rows"]]

A recipe's keys are the option names of its command (:mod:`advkit.commands.options`), so it runs the same
``run(config)`` as the command line, and ``report["command"]`` is the exact command line that reruns it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from advkit.commands import command_module
from advkit.commands.options import config_from_options, fields_by_option, is_list_field


def recipe_argv(recipe_command: list[str], options: dict[str, Any], list_options: set[str] = frozenset()) -> list[str]:
    """The exact command line a recipe stands for (shown in the report, so anyone can rerun it).

    A list is one comma-separated value (``eps = [0.1, 0.25]`` -> ``--eps 0.1,0.25``), except for a list option,
    which is given once per item (``set = ["A", "B"]`` -> ``--set A --set B``)."""
    argv = list(recipe_command)
    for key, value in options.items():
        if isinstance(value, bool):
            argv.append(f"--{key}" if value else f"--no-{key}")
        elif isinstance(value, list) and key in list_options:
            for item in value:
                argv += [f"--{key}", str(item)]
        elif isinstance(value, list):
            argv += [f"--{key}", ",".join(map(str, value))]
        else:
            argv += [f"--{key}", str(value)]
    return argv


def list_options(config_cls: type) -> set[str]:
    """Option names (no dashes) that take several values (``denoise eval --set A --set B``)."""
    return {name for name, spec in fields_by_option(config_cls).items() if is_list_field(config_cls, spec)}


def run_prerequisites(recipe, run_dir: Path, smoke: bool, device: str | None, quiet: bool, overwrite: bool,
                      use: dict[str, str], resume: bool = False) -> dict[str, str]:
    """The run directory of every recipe this one needs (``[recipe.requires]``: ``generator = "dcgan-mnist"``):
    the one given in ``use`` (``{"generator": "runs/my-dcgan"}``), or a fresh run of it beside ``run_dir``
    (``<run_dir>-<key>``), smoke when this run is."""
    from advkit.errors import AdvkitError

    requires = recipe.meta.get("requires", {})
    unknown = set(use) - set(requires)
    if unknown:
        raise AdvkitError(f"--use {', '.join(sorted(unknown))}: recipe {recipe.name} needs "
                          f"{', '.join(requires) or 'no earlier run'}")
    folders = {}
    for key, prerequisite in requires.items():
        if key in use:
            if not Path(use[key]).is_dir():
                raise AdvkitError(f"--use {key}={use[key]}: no such run directory; run `advkit recipe run "
                                  f"{prerequisite} --out {use[key]}` first, or leave --use out to run it now")
            folders[key] = use[key]
        else:
            folders[key] = run_recipe(prerequisite, smoke, run_dir.with_name(f"{run_dir.name}-{key}"), device, quiet,
                                      overwrite, resume=resume)["run"]
    return folders


def with_folders(options: dict[str, Any], folders: dict[str, str]) -> dict[str, Any]:
    """Option values with ``{key}`` replaced by the run directory of prerequisite ``key``."""
    def filled(value: Any) -> Any:
        if isinstance(value, str):
            for key, folder in folders.items():
                value = value.replace(f"{{{key}}}", str(folder))
        return value

    return {key: filled(value) for key, value in options.items()}


def finished_run(recipe, run_dir: Path, smoke: bool, seed: int | None) -> dict[str, Any] | None:
    """The stored outcome of ``run_dir`` when this recipe already finished there (its report.json and
    results.json), else None. A report from another recipe, seed or smoke setting is an error, not reused."""
    import json

    from advkit.errors import AdvkitError

    report_path, results_path = run_dir / "report.json", run_dir / "results.json"
    if not (report_path.is_file() and results_path.is_file()):
        return None
    report = json.loads(report_path.read_text())
    stored = (report.get("recipe"), bool(report.get("smoke")), report.get("seed"))
    wanted = (recipe.name, smoke, report.get("seed") if seed is None else seed)
    if stored != wanted:
        raise AdvkitError(f"--resume: {run_dir} holds a finished run of recipe {stored[0]} (smoke {stored[1]}, "
                          f"seed {stored[2]}), not {wanted[0]} (smoke {wanted[1]}, seed {wanted[2]}); "
                          "pass another --out, or --overwrite to replace it")
    return {"results": json.loads(results_path.read_text()), "report": report, "run": str(run_dir)}


def run_recipe(name: str, smoke: bool = False, out: str | Path | None = None, device: str | None = None,
               quiet: bool = False, overwrite: bool = False, seed: int | None = None,
               use: dict[str, str] | None = None, resume: bool = False) -> dict[str, Any]:
    """Run recipe ``name`` (or a .toml path) end to end; returns {"results", "report", "run"} and writes
    report.md / report.json / results.json into the run directory. ``seed`` overrides the recipe's seed. A recipe
    that evaluates an earlier run's output (``[recipe.requires]``) runs that recipe first, unless ``use`` names its
    directory. ``resume``: a run already finished in ``out`` is returned as stored, an interrupted training
    continues from its last checkpoint (exactly, see :mod:`advkit.train.base`), any other command reruns."""
    from advkit.recipes import find_recipe
    from advkit.data.paths import portable
    from advkit.report import build_report, write_report
    from advkit.runtime.rundir import plain, write_json

    recipe = find_recipe(name)
    if resume and out is not None and not overwrite:
        stored = finished_run(recipe, Path(out), smoke, seed)
        if stored is not None:
            return stored
    module = command_module(" ".join(recipe.command))
    options = recipe.smoke_options() if smoke else dict(recipe.options)
    if device:
        options["device"] = device
    if seed is not None:
        options["seed"] = seed
    run_dir = Path(out or f"runs/recipe-{recipe.name}{'-smoke' if smoke else ''}-{time.strftime('%Y%m%d-%H%M%S')}")
    options = with_folders(options, run_prerequisites(recipe, run_dir, smoke, device, quiet, overwrite, use or {},
                                                      resume))
    config = config_from_options(module.CONFIG, options, f"recipe {recipe.path.name}")
    argv = recipe_argv(recipe.command, {**options, "out": str(run_dir)}, list_options(module.CONFIG))
    started = run_dir.is_dir() and any(run_dir.iterdir())
    checkpointed = any((run_dir / "checkpoints").glob("*.pt"))
    if resume and checkpointed and getattr(module, "TRAINER", False):  # a trainer's run() takes resume=
        results = module.run(config, out=run_dir, quiet=quiet, resume=run_dir)
    else:  # a command without checkpoints has nothing to continue: it reruns in place
        results = module.run(config, out=run_dir, quiet=quiet, overwrite=overwrite or (resume and started))
    report = build_report(recipe, run_dir, argv, smoke, results)
    write_report(report, run_dir)
    write_json(run_dir / "results.json", portable(plain(results)))
    return {"results": results, "report": report, "run": str(run_dir)}


def run_recipe_seeds(name: str, seeds: list[int], smoke: bool = False, out: str | Path | None = None,
                     device: str | None = None, quiet: bool = False, overwrite: bool = False,
                     use: dict[str, str] | None = None, resume: bool = False) -> dict[str, Any]:
    """Run recipe ``name`` once per seed (into ``out/seed-<k>``) and write one report of mean +- std, min and max
    per figure into ``out``; returns {"results": {seed: results}, "report", "run"}.

    ``resume`` keeps the seeds already finished in ``out`` and continues an interrupted one, so seeds can also run
    side by side as separate processes (``--seeds 0 --resume``, ``--seeds 1 --resume``, ... into one ``--out``)
    and a last ``--seeds 0,1,2 --resume`` gathers them into one report without training again."""
    from advkit.recipes import find_recipe
    from advkit.report import aggregate_seeds, write_report
    from advkit.runtime.rundir import ensure_writable

    recipe = find_recipe(name)
    root = Path(out or f"runs/recipe-{recipe.name}-seeds-{time.strftime('%Y%m%d-%H%M%S')}")
    if root.is_dir() and any(root.iterdir()) and not (overwrite or resume):
        from advkit.errors import AdvkitError

        raise AdvkitError(f"--out {root} already holds runs; pass --resume to keep the finished seeds, --overwrite "
                          "to replace them, or another --out")
    outcomes = [run_recipe(name, smoke, root / f"seed-{seed}", device, quiet, overwrite, seed, use, resume)
                for seed in seeds]
    report = aggregate_seeds([o["report"] for o in outcomes], list(seeds), root)
    write_report(report, ensure_writable(root))
    return {"results": {str(seed): o["results"] for seed, o in zip(seeds, outcomes)}, "report": report,
            "run": str(root)}
