"""What every command shares: the compute options, dataclass configs as click options, recipes, run start-up.

A command is written once as a dataclass config (the defaults table) and a function of it::

    @click.command()
    @options_from(FGSMConfig)
    @compute_options
    def command(**options):
        session = start_session("fgsm", options)         # device, seeds, run dir, config.json
        config = config_from(FGSMConfig, options)         # validated dataclass
        ...

Field ``d_steps`` is option ``--d-steps`` is recipe key ``d-steps``: API, CLI and recipes cannot disagree.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click
import torch

from advkit.errors import AdvkitError

RESERVED_RECIPE_KEYS = {"command", "recipe"}  # which command a recipe runs; its metadata table


# --------------------------------------------------------------------------- dataclass -> options
def option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def _click_type(field: dataclasses.Field, hint: Any) -> tuple[Any, bool]:
    """(click type, is_flag) for a dataclass field's annotation."""
    if field.metadata.get("choices"):
        return click.Choice(list(field.metadata["choices"]), case_sensitive=False), False
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return click.Choice([str(a) for a in typing.get_args(hint)], case_sensitive=False), False
    if origin in (typing.Union, types.UnionType):  # Optional[X]
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _click_type(field, inner[0]) if len(inner) == 1 else (str, False)
    if hint is bool:
        return bool, True
    if hint in (int, float, str):
        return hint, False
    return str, False


def options_from(config_cls: type, exclude: tuple[str, ...] = ()) -> Callable:
    """Decorator adding one click option per dataclass field, with the field's default and help."""
    hints = typing.get_type_hints(config_cls)

    def decorate(fn: Callable) -> Callable:
        for spec in reversed(dataclasses.fields(config_cls)):
            if spec.name in exclude or spec.metadata.get("cli") is False:
                continue
            ctype, is_flag = _click_type(spec, hints[spec.name])
            default = spec.default if spec.default is not dataclasses.MISSING else (
                spec.default_factory() if spec.default_factory is not dataclasses.MISSING else None)
            name = option_name(spec.name)
            decls = [f"{name}/--no-{name[2:]}"] if is_flag else [name]
            fn = click.option(*decls, spec.name, type=None if is_flag else ctype, default=default,
                              show_default=True, help=spec.metadata.get("help", ""))(fn)
        return fn

    return decorate


def config_from(config_cls: type, options: dict[str, Any], **overrides: Any):
    """Build (and validate, via the dataclass' __post_init__) a config from parsed options."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    values = {k: v for k, v in options.items() if k in names}
    values.update(overrides)
    return config_cls(**values)


# --------------------------------------------------------------------------- recipes
def load_recipe(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a recipe: a flat TOML file whose keys are CLI option names (plus `command` and a [recipe] table)."""
    path = Path(path)
    if not path.is_file():
        raise AdvkitError(f"recipe {path} does not exist; `advkit recipe list` shows the shipped recipes")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AdvkitError(f"recipe {path} is not valid TOML: {e}") from None


def recipe_default_map(command: click.Command, recipe: dict[str, Any], source: str = "recipe") -> dict[str, Any]:
    """Map recipe keys (option names without dashes) to parameter names; unknown keys are errors."""
    by_option: dict[str, str] = {}
    repeatable: set[str] = set()
    for param in command.params:
        for opt in getattr(param, "opts", []):
            by_option[opt.lstrip("-")] = param.name
            if getattr(param, "multiple", False):
                repeatable.add(opt.lstrip("-"))
    default_map = {}
    for key, value in recipe.items():
        if key in RESERVED_RECIPE_KEYS:
            continue
        if key not in by_option or key == "recipe":
            known = ", ".join(sorted(k for k in by_option if not k.startswith("no-")))
            raise AdvkitError(f"{source}: unknown key {key!r} for this command; known keys: {known}")
        if isinstance(value, dict):
            raise AdvkitError(f"{source}: key {key!r} must be a plain value, not a table")
        if isinstance(value, list) and key not in repeatable:  # a comma list (--eps 0.1,0.25); repeatable: a list
            value = ",".join(map(str, value))
        default_map[by_option[key]] = value
    return default_map


def _apply_recipe(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        recipe = load_recipe(value)
        wanted = recipe.get("command")
        # The path below the root group ("gan train"), whatever the program is called: `advkit`, or
        # `python -m advkit.cli.main`, whose name has spaces.
        names, node = [], ctx
        while node.parent is not None:
            names.append(node.info_name)
            node = node.parent
        here = " ".join(reversed(names)) or ctx.info_name
        if wanted and wanted != here:
            raise AdvkitError(f"recipe {value} is for `advkit {wanted}`, not `advkit {here}`")
        # Recipe values become defaults: flags given on the command line still win.
        ctx.default_map = {**(ctx.default_map or {}), **recipe_default_map(ctx.command, recipe, f"recipe {value}")}
    return value


# --------------------------------------------------------------------------- compute options
def compute_options(fn: Callable) -> Callable:
    """--device, --seed, --out, --quiet, --deterministic and --recipe, on every command that computes."""
    fn = click.option("--recipe", type=click.Path(dir_okay=False), is_eager=True, expose_value=True,
                      callback=_apply_recipe, help="TOML recipe: keys are this command's option names; flags override it.")(fn)
    fn = click.option("--deterministic/--no-deterministic", default=False, show_default=True,
                      help="Deterministic kernels (bit-identical reruns; slower on CUDA).")(fn)
    fn = click.option("--quiet", is_flag=True, default=False, help="No progress bars; errors and results only.")(fn)
    fn = click.option("--out", type=click.Path(file_okay=False), default=None,
                      help="Run directory (default runs/<command>-<timestamp>).")(fn)
    fn = click.option("--seed", type=int, default=0, show_default=True, help="Seed for python, numpy and torch.")(fn)
    fn = click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N")(fn)
    return fn


@dataclass
class Session:
    """What a command gets after start-up: its device and run directory, and the resolved options."""
    device: torch.device
    run: Any  # RunDir
    options: dict[str, Any]
    quiet: bool
    dist: Any = field(default=None)  # advkit.runtime.distributed.DistContext under torchrun (None: one process)

    def echo(self, message: str = "") -> None:
        if self.dist is not None and not self.dist.is_main:
            return  # under torchrun, one process speaks
        from rich.console import Console

        Console().print(message, highlight=False)

    def close(self, leave_group: bool = True) -> None:
        """Release the run directory (its lock, TensorBoard writer) and leave the process group, if any."""
        if self.run is not None:
            self.run.close()
        if leave_group and self.dist is not None and self.dist.enabled:
            from advkit.runtime.distributed import teardown

            teardown()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        # Always unlock the run directory (the next run must find it free). After an error the process group
        # is left alone: a collective teardown would wait for ranks that are still training; the process exit
        # (and torch's own atexit hook) ends this rank's membership.
        self.close(leave_group=exc_type is None)


def start_session(command: str, options: dict[str, Any], run_dir: bool = True, resume: str | None = None) -> Session:
    """Select the device, seed everything, create the run directory and write config.json.

    Use it as a context manager (``with start_session(...) as session:``) so the run directory is released
    whatever happens.

    Under torchrun (WORLD_SIZE > 1) it also joins the process group: each rank gets cuda:LOCAL_RANK (or the
    CPU), the same seed (identical initial weights), and rank 0's run directory with writes on rank 0 only."""
    from advkit.runtime import distributed
    from advkit.runtime.device import configure_backends, select_device
    from advkit.runtime.rundir import RunDir
    from advkit.runtime.seeding import seed_everything

    dist = distributed.setup(options.get("device", "auto"))
    device = dist.device if dist.enabled else select_device(options.get("device", "auto"))
    deterministic = bool(options.get("deterministic", False))
    seed_everything(int(options.get("seed", 0)), deterministic)
    configure_backends(device, deterministic)
    run = None
    if run_dir:
        resume = resume or options.get("resume")
        # Resuming a run directory continues in it, so its metrics and checkpoints stay in one place.
        out = options.get("out") or (resume if resume and Path(resume).is_dir() else None)
        if dist.is_main:
            run = RunDir.create(command, out)
        # Every rank must name the same run directory (default names carry a timestamp); only rank 0 writes.
        path = dist.broadcast_object(str(run.path) if dist.is_main else None)
        if not dist.is_main:
            run = RunDir(path, main_process=False)
        extra = {"world_size": dist.world_size, "backend": dist.backend} if dist.enabled else {}
        run.save_config({"command": command, **{k: v for k, v in options.items()}, "resolved_device": str(device),
                         **extra})
    return Session(device, run, options, bool(options.get("quiet", False)) or not dist.is_main, dist)


def resume_option(fn: Callable) -> Callable:
    """``--resume RUN_DIR|CKPT`` for trainers: continue exactly where a run stopped (same run directory)."""
    return click.option("--resume", type=click.Path(exists=True), default=None,
                        help="Continue from a run directory's latest checkpoint (or a checkpoint file).")(fn)


def run_trainer(trainer_cls: type, config: Any, session: Session) -> dict[str, float]:
    """Build a trainer, resume it if asked, fit it, and always release the run directory."""
    with session:
        trainer = trainer_cls(config, session)
        if session.options.get("resume"):
            trainer.resume(session.options["resume"])
        return trainer.fit()
