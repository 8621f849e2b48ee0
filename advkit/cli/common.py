"""The command line's only job: turn options into a command's config, call the library, print, write results.json.

Every command is built from its library module (:mod:`advkit.commands`): the config dataclass gives the options
(field ``d_steps`` is ``--d-steps``, with the field's default and help), ``run(config, session)`` does the work::

    command = library_command("gan train", "Train a GAN ...")      # a click.Command

A recipe file (``--recipe FILE``) supplies option values; flags on the command line override it. With
``--resume``, options not given take the stored run's values, and the library refuses any given option that
differs from them (except run-length options such as ``--steps``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Callable

import click

from advkit.commands.options import field_help, is_list_field, option_default_text, option_name
from advkit.errors import AdvkitError

RESERVED_RECIPE_KEYS = {"command", "recipe"}  # which command a recipe runs; its metadata table


class CommandError(click.ClickException):
    """An :class:`AdvkitError` on its way out of click: ``Error: <message>``, exit code 2."""

    exit_code = 2


class AdvkitCommand(click.Command):
    """A click command whose library errors (bad input, missing files) end as one line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AdvkitError as e:
            raise CommandError(e.message) from None


class AdvkitGroup(click.Group):
    """A click group whose commands' library errors end as one line and exit code 2 (as AdvkitCommand)."""

    command_class = AdvkitCommand

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AdvkitError as e:
            raise CommandError(e.message) from None


# --------------------------------------------------------------------------- dataclass -> options
def _click_type(spec: dataclasses.Field, hint: Any) -> tuple[Any, bool]:
    """(click type, is_flag) for a dataclass field's annotation."""
    if spec.metadata.get("parsed"):  # typed in the config, typed as text here (advkit.values parses it)
        return str, False
    if spec.metadata.get("choices"):
        choices = spec.metadata["choices"]  # a callable: a catalog's names, read when the command is built
        return click.Choice(list(choices() if callable(choices) else choices), case_sensitive=False), False
    if spec.metadata.get("exists") or spec.metadata.get("folder"):
        return click.Path(exists=True, file_okay=not spec.metadata.get("folder")), False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):  # Optional[X]
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _click_type(spec, inner[0]) if len(inner) == 1 else (str, False)
    if origin in (list, tuple):
        return _click_type(spec, typing.get_args(hint)[0])
    if hint is bool:
        return bool, True
    return (hint, False) if hint in (int, float, str) else (str, False)


def options_from(config_cls: type, exclude: tuple[str, ...] = ()) -> Callable:
    """Decorator adding one click option (or argument) per dataclass field, with the field's default and help."""
    hints = typing.get_type_hints(config_cls)

    def decorate(fn: Callable) -> Callable:
        for spec in reversed(dataclasses.fields(config_cls)):
            if spec.name in exclude:
                continue
            ctype, is_flag = _click_type(spec, hints[spec.name])
            multiple = is_list_field(config_cls, spec)
            if spec.metadata.get("argument"):
                fn = click.argument(spec.name, nargs=-1, required=True, type=ctype)(fn)
                continue
            default = spec.default if spec.default is not dataclasses.MISSING else (
                spec.default_factory() if spec.default_factory is not dataclasses.MISSING else None)
            default = option_default_text(default) if spec.metadata.get("parsed") else default
            name = option_name(spec)
            decls = [f"{name}/--no-{name[2:]}"] if is_flag else [name]
            fn = click.option(*decls, spec.name, type=None if is_flag else ctype, default=default, multiple=multiple,
                              required=bool(spec.metadata.get("required")), show_default=not multiple and default is not None,
                              help=field_help(spec))(fn)
        return fn

    return decorate


# --------------------------------------------------------------------------- recipes on the command line
def recipe_default_map(command: click.Command, recipe: dict[str, Any], source: str = "recipe") -> dict[str, Any]:
    """Map recipe keys (option names without dashes) to parameter names; unknown keys are errors."""
    by_option: dict[str, str] = {}
    repeatable: set[str] = set()
    for param in command.params:
        for opt in getattr(param, "opts", []):
            by_option[opt.lstrip("-")] = param.name
            if getattr(param, "multiple", False):
                repeatable.add(opt.lstrip("-"))
    from advkit.train.config import upgrade_options

    default_map = {}
    for key, value in upgrade_options(recipe).items():
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
        try:
            _load_recipe_defaults(ctx, value)
        except AdvkitError as e:
            raise CommandError(e.message) from None
    return value


def _load_recipe_defaults(ctx: click.Context, value: str) -> None:
    from advkit.recipes import load_recipe

    if value:
        recipe = load_recipe(value)
        wanted = recipe.get("command")
        # The path below the root group ("gan train"), whatever the program is called.
        names, node = [], ctx
        while node.parent is not None:
            names.append(node.info_name)
            node = node.parent
        here = " ".join(reversed(names)) or ctx.info_name
        if wanted and wanted != here:
            raise AdvkitError(f"recipe {value} is for `advkit {wanted}`, not `advkit {here}`")
        # Recipe values become defaults: flags given on the command line still win.
        ctx.default_map = {**(ctx.default_map or {}), **recipe_default_map(ctx.command, recipe, f"recipe {value}")}


def verbose_option(fn: Callable) -> Callable:
    """--verbose: the long form of a command's output (every column and row, whole values)."""
    return click.option("--verbose/--no-verbose", "-v", default=False,
                        help="Long output: every column and row of the tables, whole values (default: what fits "
                             "the terminal).")(fn)


def session_options(fn: Callable, out: bool = True, resume: bool = False, files: bool = False) -> Callable:
    """--recipe, --quiet, --out/--overwrite (commands with a run directory; ``files``: only --overwrite, for
    commands whose own --out folder takes plain files) and --resume (trainers and resumable commands)."""
    if resume:
        fn = click.option("--resume", type=click.Path(exists=True), default=None,
                          help="Continue a run: its run directory (a trainer's latest checkpoint, or a checkpoint file).")(fn)
    fn = click.option("--recipe", type=click.Path(dir_okay=False), is_eager=True, expose_value=True,
                      callback=_apply_recipe, help="TOML recipe: keys are this command's option names; flags override it.")(fn)
    fn = verbose_option(fn)
    fn = click.option("--quiet/--no-quiet", default=False, help="No progress bars; errors and results only.")(fn)
    if out:
        fn = click.option("--overwrite/--no-overwrite", default=False,
                          help="Empty a non-empty --out first (without it a used --out is refused).")(fn)
        fn = click.option("--out", type=click.Path(file_okay=False), default=None,
                          help="Run directory (default runs/<command>-<timestamp>).")(fn)
    elif files:
        fn = click.option("--overwrite/--no-overwrite", default=False,
                          help="Write over files of the same names in a used --out (without it a used --out is "
                               "refused).")(fn)
    return fn


# --------------------------------------------------------------------------- options -> config -> run -> print
def config_from(config_cls: type, options: dict[str, Any]):
    """Build (and validate, via the dataclass' __post_init__) a config from parsed options (other keys ignored)."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    return config_cls(**{k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items() if k in names})


def _resume_defaults(config_cls: type, options: dict[str, Any], resume: str, trainer: bool = True) -> dict[str, Any]:
    """Options the user did not give take the stored run's values (so `--resume RUN` alone continues it): a
    trainer's from its checkpoint, a resumable evaluation's from the run directory's config.json."""
    from advkit.runtime.checkpoint import load_checkpoint, resolve_checkpoint
    from advkit.train.config import upgrade_options

    if not trainer:
        from advkit.runtime.rundir import read_config

        stored = read_config(resume)
    else:
        stored = load_checkpoint(resolve_checkpoint(resume))["config"]
    stored = upgrade_options(stored)
    ctx = click.get_current_context()
    names = {f.name for f in dataclasses.fields(config_cls)}
    for name in names & set(stored):
        if ctx.get_parameter_source(name) == click.core.ParameterSource.DEFAULT:
            options[name] = stored[name]
    return options


def _load_torch(quiet: bool) -> None:
    """Import torch (seconds on a cold start) under a spinner, so no command starts with a silent screen."""
    import sys
    from contextlib import nullcontext

    if "torch" in sys.modules:
        return
    from advkit.runtime.progress import console

    with console.status("starting (loading torch)") if console.is_terminal and not quiet else nullcontext():
        import torch  # noqa: F401


def library_command(name: str, help_text: str, show: Callable[[dict], None] | None = None) -> click.Command:
    """The click command for library command ``name`` (see :mod:`advkit.commands`)."""
    from advkit.commands import command_module

    module = command_module(name)
    config_cls, trainer = module.CONFIG, getattr(module, "TRAINER", False)
    resumable = trainer or getattr(module, "RESUMABLE", False)  # RESUMABLE: run(config, session, resume=RUN)
    has_out_field = "out" in {f.name for f in dataclasses.fields(config_cls)}

    def callback(**options) -> None:
        from advkit.cli.output import show_results, shown_path
        from advkit.data.paths import portable
        from advkit.runtime.rundir import plain
        from advkit.runtime.session import open_session

        resume = options.pop("resume", None)
        quiet, overwrite, verbose = options.pop("quiet"), options.pop("overwrite", False), options.pop("verbose")
        options.pop("recipe", None)
        out = None if has_out_field else options.pop("out", None)
        if resume:
            options = _resume_defaults(config_cls, options, resume, trainer)
        config = config_from(config_cls, options)
        _load_torch(quiet)
        with open_session(name.replace(" ", "-"), config, out=out, quiet=quiet, resume=resume, overwrite=overwrite,
                          run_dir=module.RUN_DIR) as session:
            results = module.run(config, session, resume=resume) if resumable else module.run(config, session)
            results = portable(plain(results))  # results.json and the screen name no path of this machine
            if session.run is not None:
                session.run.save_json("results.json", results)
            where = session.run.path if session.run is not None else None
            speaks = session.is_main
        if speaks:
            (show or (lambda r: show_results(r, f"advkit {name}", shown_path(where) if where else None, verbose)))(results)

    command = AdvkitCommand(name.split()[-1], callback=callback, help=help_text, short_help=help_text.split("\n\n")[0])
    decorated = options_from(config_cls)(session_options(lambda **kw: None, out=not has_out_field, resume=resumable,
                                                                  files=has_out_field))
    command.params = decorated.__click_params__[::-1]
    return command


class LibraryGroup(AdvkitGroup):
    """A command group whose subcommands are built from their library modules only when called, so one
    subcommand's ``--help`` never imports another's dependencies. ``commands``: {name: (library name, help)}."""

    def __init__(self, name: str, commands: dict[str, tuple[str, str]], **kwargs):
        super().__init__(name, **kwargs)
        self.library = commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.library)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.library:
            return None
        return library_command(*self.library[name])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text.split("\n\n")[0]) for name, (_, help_text) in self.library.items()])
