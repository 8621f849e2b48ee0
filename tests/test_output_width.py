"""Every command's default output fits an 80-column terminal without wrapping a table cell, and is short;
``--verbose`` gives the long form (every column, whole values), also within the width."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from advkit.cli import output

WIDTH = 80


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").splitlines()


def _assert_fits(text: str, width: int = WIDTH) -> None:
    wide = [line for line in _lines(text) if len(line) > width]
    assert not wide, f"{len(wide)} lines over {width} columns, e.g. {wide[0]!r}"


@pytest.fixture
def screen(monkeypatch):
    """show_results printing into a string as an 80-column terminal would show it."""
    buffer = io.StringIO()
    monkeypatch.setattr(output, "console", Console(file=buffer, width=WIDTH, color_system=None))
    return buffer


def _wide_rows() -> list[dict]:
    # Like `advkit linear`'s table: a few top-level figures and ten nested per-class rates (13 columns).
    return [{"eps": e, "success_rate": e / 3, "mean_target_confidence": 0.6 + e,
             "success_by_true_class": {str(c): round(e * c / 9, 4) for c in range(10)},
             "mean_logit_shift_bound": 110.123 * e} for e in (0.02, 0.05, 0.1, 0.25)]


def test_a_wide_table_keeps_whole_cells_and_names_the_columns_left_out(screen):
    output.show_results({"rows": _wide_rows(), "note": "x" * 200}, "advkit demo", "runs/demo")
    text = screen.getvalue()
    _assert_fits(text)
    body = [line.split() for line in _lines(text) if line.strip().startswith(("0.02 ", "0.05 ", "0.1 ", "0.25 "))]
    assert len(body) == 4 and all(len(cells) == 4 for cells in body)  # one line per row, four whole columns
    assert [float(cells[0]) for cells in body] == [0.02, 0.05, 0.1, 0.25]
    assert float(body[-1][3]) == pytest.approx(110.123 * 0.25, rel=1e-3)  # 4 significant digits
    words = " ".join(text.split())
    assert "10 more columns in results.json (--verbose shows them): success_by_true_class.{0,1,2,3,4,5,6,7,8,9}" \
        in words
    assert "x" * 40 in text and "x" * 200 not in text and "\u2026" in text  # a long value is cut, not wrapped


def test_verbose_shows_every_value_within_the_width(screen):
    rows = _wide_rows()
    output.show_results({"rows": rows, "note": "y" * 200}, "advkit demo", verbose=True)
    text = screen.getvalue()
    _assert_fits(text)
    words = text.split()
    for row in rows:
        for c, rate in row["success_by_true_class"].items():
            assert f"success_by_true_class.{c}" in words and f"{rate:.4g}" in words
    assert "y" * 200 in "".join(text.split())  # whole (folded over lines)


def test_the_first_columns_fit_at_least(screen):
    rows = [{"image": "a-very-long-file-name-" * 6 + ".png", "pred": 3}]
    output.show_results({"images": rows}, "advkit demo")
    _assert_fits(screen.getvalue())


def _run80(cli, *args):
    result = cli(*args, env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    return result


def test_recipe_list_fits_80_columns(cli):
    from advkit.recipes import all_recipes

    n = len(all_recipes())
    short = _run80(cli, "recipe", "list").stdout
    _assert_fits(short)
    assert len(_lines(short)) <= n + 4  # title, header, rule, one line per recipe
    long = _run80(cli, "recipe", "list", "--verbose").stdout
    _assert_fits(long)
    assert all(r.name in long for r in all_recipes()) and "published:" in long


def test_data_list_fits_80_columns(cli):
    short = _run80(cli, "data", "list").stdout
    _assert_fits(short)
    assert len(_lines(short)) <= 24  # one screen
    long = _run80(cli, "data", "list", "--verbose").stdout
    _assert_fits(long)
    assert "licence" in long and "https://" in long


def test_fgsm_panda_figure_fits_one_screen_and_a_half(cli, tmp_path):
    """`advkit fgsm --eps 0.007` (the README's first command) at 80 columns: under 40 lines, none wider."""
    result = _run80(cli, "fgsm", "--eps", "0.007", "--n", "100", "--out", str(tmp_path / "run"), "--quiet")
    _assert_fits(result.stdout)
    assert len(_lines(result.stdout)) <= 40, result.stdout
    assert f"run directory: {tmp_path / 'run'}" in " ".join(result.stdout.split())  # outside the cwd: whole
    images = json.loads((tmp_path / "run" / "results.json").read_text())["images"]
    assert all(r["image"].split("/")[-1] in result.stdout for r in images)  # names shown, not folded paths


def test_recipe_run_table_fits_80_columns(cli, tmp_path):
    result = _run80(cli, "recipe", "run", "fgsm-softmax", "--smoke", "--out", str(tmp_path / "r"), "--quiet")
    _assert_fits(result.output)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    for row in report["rows"]:  # advkit's figure is never cut
        advkit = row["advkit"]
        assert (f"{advkit:.4g}" if isinstance(advkit, float) else str(advkit)) in result.stderr
