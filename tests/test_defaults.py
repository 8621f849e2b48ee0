"""One defaults table: the CLI's defaults are exactly the dataclasses' (API) defaults."""

from __future__ import annotations

import click
import pytest

from advkit.cli.main import cli
from advkit.defaults import COMMAND_CONFIGS, defaults


@pytest.mark.parametrize("command", list(COMMAND_CONFIGS))
def test_cli_defaults_equal_api_defaults(command):
    cmd = cli
    ctx = click.Context(cli)
    for part in command.split():
        cmd = cmd.get_command(ctx, part)
    cli_defaults = {p.name: p.default for p in cmd.params if isinstance(p, click.Option)}
    table = defaults(command)
    shared = set(cli_defaults) & set(table)
    assert len(shared) >= 5
    for name in shared:
        assert cli_defaults[name] == table[name], (command, name)
    # every config field is an option (except ones a config marks cli=False)
    import dataclasses

    fields = {f.name for f in dataclasses.fields(COMMAND_CONFIGS[command]) if f.metadata.get("cli", True)}
    arguments = {p.name for p in cmd.params if isinstance(p, click.Argument)}
    assert fields <= set(cli_defaults) | arguments, fields - set(cli_defaults)


def test_unknown_command_is_a_key_error():
    with pytest.raises(KeyError):
        defaults("nope")
