"""The README's Python API snippets run as written (in a scratch folder: they write runs/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _snippets() -> list[str]:
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_documents_four_areas():
    text = "\n".join(_snippets())
    assert len(_snippets()) == 4
    for name in ("advkit.attacks", "gan_train.run", "denoise_tensor(", "run_recipe("):
        assert name in text, name


@pytest.mark.parametrize("index", range(4), ids=["attack", "gan", "denoise", "recipe"])
def test_readme_snippet_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_snippets()[index], f"README.md snippet {index + 1}", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.strip(), "every snippet prints what it measured"
    if index == 0:
        fgsm, pgd = (float(m) for m in re.findall(r"error ([\d.]+)%", printed))
        assert pgd >= fgsm  # PGD is at least as strong as FGSM at the same eps
    if index == 2:
        before, after = (float(m) for m in re.findall(r"([\d.]+)(?= ->| dB)", printed))
        assert after > before + 5  # the shipped model removes most of sigma-50 noise
