"""The CLI shell: every command's --help works; bad input exits 2 with one line and no traceback."""

from __future__ import annotations

import click
import pytest

from advkit import __version__
from advkit.cli.main import cli as _cli
from advkit.commands import top_level

COMMANDS = top_level()


def _all_command_paths():
    paths = []
    for name in COMMANDS:
        cmd = _cli.get_command(click.Context(_cli), name)
        paths.append([name])
        if isinstance(cmd, click.Group):
            paths += [[name, sub] for sub in cmd.list_commands(click.Context(cmd))]
    return paths


def _all_commands():
    """(path, click command) for every command and group."""
    from advkit.cli.main import cli as group

    ctx = click.Context(group)
    for path in _all_command_paths():
        cmd = group
        for part in path:
            cmd = cmd.get_command(ctx, part)
        yield path, cmd


def test_top_level_help_and_version(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert cli("--version").stdout.strip() == f"advkit, version {__version__}"


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p))
def test_every_command_has_help(path):
    from click.testing import CliRunner

    from advkit.cli.main import cli as group

    result = CliRunner().invoke(group, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _one_line_error(result):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert "Traceback" not in result.output


def test_bad_options_exit_2_with_one_line(cli):
    for args in (["nonsense"], ["data", "fetch", "nope"], ["data", "list", "--bogus"]):
        _one_line_error(cli(*args))


def test_compute_options_are_on_every_computing_command():
    checked = 0
    for path, cmd in _all_commands():
        if isinstance(cmd, click.Group) or path[0] in ("data", "recipe"):
            continue
        names = {p.name for p in cmd.params}
        assert {"device", "seed", "out", "quiet"} <= names, path
        checked += 1
    assert checked >= 1 or len(COMMANDS) == 0


def test_device_cuda_without_cuda_is_a_clear_error():
    import torch

    from advkit.errors import AdvkitError
    from advkit.runtime.device import select_device

    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(AdvkitError, match="--device must be"):
        select_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(AdvkitError, match="no CUDA device"):
            select_device("cuda")


def test_unwritable_out_is_a_clear_error(tmp_path):
    from advkit.errors import AdvkitError
    from advkit.runtime.rundir import RunDir

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AdvkitError, match="writable --out"):
        RunDir(blocker / "run")


def test_data_verify_passes_on_the_vendored_files(cli):
    result = cli("data", "verify")
    assert result.exit_code == 0, result.output
    assert "mnist/t10k-images-idx3-ubyte.gz (ok)" in result.stdout


def test_help_of_every_command_never_imports_torch():
    """`--help` reads a command's config only: torch (seconds to import) is loaded when a command runs."""
    import subprocess
    import sys

    script = """
import sys
from advkit.cli.main import cli
from advkit.commands import top_level
import click
ctx = click.Context(cli)
for name in top_level():
    group = cli.get_command(ctx, name)
    subs = group.list_commands(ctx) if isinstance(group, click.Group) else [None]
    for sub in subs:
        args = [name] + ([sub] if sub else []) + ["--help"]
        try:
            cli.main(args=args, standalone_mode=False)
        except SystemExit:
            pass
print("torch" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False", "a command's --help imported torch"


def test_every_boolean_option_has_a_plain_on_and_off_form():
    """Every flag of every command is a `--x / --no-x` pair (a recipe's `amp = true` can be undone with
    `--no-amp`), and none is named in the negative (`--no-clip / --no-no-clip`)."""
    flags = 0
    for path, cmd in _all_commands():
        for param in getattr(cmd, "params", []):
            if not (isinstance(param, click.Option) and param.is_flag) or param.name == "help":
                continue
            flags += 1
            (on,) = [o for o in param.opts if o.startswith("--")]  # (a short alias like -v may come too)
            assert not on.startswith("--no-"), (path, param.opts)
            assert param.secondary_opts == [f"--no-{on[2:]}"], (path, param.opts, param.secondary_opts)
    assert flags >= 20


def test_a_renamed_flag_keeps_old_recipes_and_stored_configs_working(tmp_path):
    """`no_clip` became `clip` (a `--clip / --no-clip` pair): the old key in a recipe, a TOML passed to --recipe,
    and a stored checkpoint config all mean the same thing under the new name."""
    from advkit.cli.common import recipe_default_map
    from advkit.commands.advtrain import CONFIG
    from advkit.commands.options import config_from_options
    from advkit.cli.main import cli as group
    from advkit.train.config import upgrade_options

    assert config_from_options(CONFIG, {"no-clip": True}).clip is False
    assert config_from_options(CONFIG, {"no_clip": False}).clip is True
    assert config_from_options(CONFIG, {}).clip is True
    advtrain = group.get_command(click.Context(group), "advtrain")
    assert recipe_default_map(advtrain, {"no-clip": True}) == {"clip": False}
    assert upgrade_options({"no_clip": True, "eps": 0.3}) == {"clip": False, "eps": 0.3}
