"""The README works as written: every Python snippet runs (in a scratch folder: they write runs/), every `advkit`
command line in it names a real command and real options, and it stays short enough to read (under 25 KB)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _command_lines() -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S):
        for line in block.splitlines():
            for part in line.split("&&"):  # the set-up lines chain commands
                words = shlex.split(part.split(" #")[0])
                if words[:1] == ["advkit"]:
                    lines.append(words)
    return lines


def test_the_readme_is_short_and_has_its_sections():
    text = README.read_text()
    assert len(text.encode()) < 25_000, f"README.md is {len(text.encode())} bytes; move detail to docs/"
    for heading in ("## Set up", "## A ten-line tour", "## Python API", "## Results"):
        assert heading in text, heading
    assert "python -m pytest -q -n 2" in text  # the test command CI runs (.ci/run)
    assert len(_snippets()) >= 4, "the Python API shows attacks, GANs, denoising and recipes"
    api = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    imports = re.findall(r"^(?:from|import) (advkit\S*)", api, flags=re.M)
    assert imports and set(imports) == {"advkit"}, f"the README's API is `import advkit` only: {imports}"
    assert not re.findall(r"advkit\.\w+\.\w+\.\w+", api), "one level below advkit at most (advkit.attacks.PGD)"


def _leaf(words: list[str]):
    """The click command a command line names, and the words after its name."""
    from advkit.cli.main import cli

    command, rest = cli, words[1:]
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        sub = command.get_command(None, rest[0])
        assert sub is not None, f"`{' '.join(words)}`: no command {rest[0]!r}"
        command, rest = sub, rest[1:]
    return command, rest


def test_every_command_line_names_real_commands_and_options():
    lines = _command_lines()
    assert len(lines) >= 10
    for words in lines:
        command, rest = _leaf(words)
        known = {opt for param in command.params for opt in (*getattr(param, "opts", []),
                                                             *getattr(param, "secondary_opts", []))}
        given = {w.split("=")[0] for w in rest if w.startswith("--")}
        assert given <= known | {"--help"}, f"`{' '.join(words)}`: unknown options {sorted(given - known)}"


@pytest.mark.parametrize("index", range(len(_snippets())))
def test_readme_snippet_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_snippets()[index], f"README.md snippet {index + 1}", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.strip(), "every snippet prints what it measured"
    errors = [float(m) for m in re.findall(r"error ([\d.]+)%", printed)]
    if len(errors) == 2:  # FGSM then PGD at the same eps: PGD is at least as strong
        assert errors[1] >= errors[0]
    psnr = [float(m) for m in re.findall(r"([\d.]+)(?= ->| dB)", printed)]
    if len(psnr) == 2:  # the shipped model removes most of sigma-50 noise
        assert psnr[1] > psnr[0] + 5
