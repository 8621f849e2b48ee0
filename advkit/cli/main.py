"""``advkit``: one command line for adversarial examples, GANs and denoising GANs.

The commands and groups are THE list in :mod:`advkit.commands` (``COMMANDS``, ``GROUPS``); each click command is
built from its library module only when used, so ``advkit --help`` stays fast and one command's dependencies never
slow another. ``recipe`` and ``data`` are click groups of their own (``advkit/cli/recipe.py``, ``data.py``).
"""

from __future__ import annotations

import sys

import click

from advkit.cli.common import AdvkitGroup, LibraryGroup, library_command
from advkit.commands import COMMANDS, GROUPS, group_commands, top_level
from advkit.version import __version__


class LazyGroup(AdvkitGroup):
    """The top level, from THE command list (:data:`advkit.commands.COMMANDS`): each command or group is built
    only when used, so ``advkit --help`` stays fast and one group's dependencies never slow another."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(top_level())

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "recipe":  # the two groups that are not library commands
            from advkit.cli.recipe import command
            return command
        if name == "data":
            from advkit.cli.data import command
            return command
        if name in COMMANDS:
            return library_command(name, COMMANDS[name].help)
        if name in GROUPS:
            subcommands = {sub: (f"{name} {sub}", c.help) for sub, c in group_commands(name).items()}
            return LibraryGroup(name, subcommands, help=GROUPS[name])
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every module (torch imports are slow).
        with formatter.section("Commands"):
            formatter.write_dl(list(top_level().items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="advkit")
def cli() -> None:
    """advkit: adversarial examples, GANs and denoising GANs, made real, fast and reproducible.

    Every command that computes takes --device auto|cpu|cuda[:N], --seed, --out DIR and --quiet,
    and writes a run directory (config.json, metrics.jsonl, TensorBoard events, images/, checkpoints/).
    """


def main(args: list[str] | None = None) -> None:
    """Console entry point: bad input exits 2 with one line; Ctrl-C exits 130 (after training saved a checkpoint)."""
    from advkit.errors import AdvkitError, TrainingInterrupted

    try:
        code = cli.main(args=args, standalone_mode=False)
    except AdvkitError as e:
        click.echo(f"Error: {e.message}", err=True)
        code = e.exit_code
    except click.UsageError as e:
        # One line, not click's usage block: say what is wrong and where the help is.
        where = e.ctx.command_path if e.ctx else "advkit"
        click.echo(f"Error: {' '.join(e.format_message().split())} (see `{where} --help`)", err=True)
        code = 2
    except click.ClickException as e:
        e.show()
        code = e.exit_code
    except (click.Abort, KeyboardInterrupt, TrainingInterrupted) as e:
        click.echo(f"Interrupted{': ' + str(e) if str(e) else ''}", err=True)
        code = 130
    except click.exceptions.Exit as e:
        code = e.exit_code
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
