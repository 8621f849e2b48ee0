"""How the command line shows a command's results: the figures of results.json as tables that fit the terminal.

Scalars (nested ones with dotted names) go in one figure/value table; a list of rows, or a dict of rows (denoise
eval's methods), becomes a table of its own; lists longer than ``MAX_ROWS`` stay in results.json only.

No cell ever wraps (a number split over lines reads as two numbers): by default a table keeps the columns that fit
the terminal (top-level figures first, then nested ones such as per-class rates) and names the others, and a long
value ends in an ellipsis; ``--verbose`` shows every column as a list, one block per row, and every value whole.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

MAX_ROWS = 20
console = Console()
PAD = 3  # what a column costs beyond its text: one space either side and a rule


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return "-" if value is None else str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str)) or (
        isinstance(value, (list, tuple)) and len(value) <= 8 and all(isinstance(v, (int, float, str)) for v in value))


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, dict) for r in value)


def _is_flat(row: dict) -> bool:
    return all(_is_scalar(v) for v in row.values())


def _is_row_dict(value: Any) -> bool:
    return (isinstance(value, dict) and len(value) > 1 and all(isinstance(v, dict) for v in value.values())
            and all(_is_scalar(x) for v in value.values() for x in v.values()))


def _walk(results: dict, prefix: str, figures: list, tables: list) -> None:
    for key, value in results.items():
        name = f"{prefix}{key}"
        if _is_scalar(value):
            figures.append((name, _cell(value)))
        elif _is_rows(value) and len(value) <= 3 and not all(_is_flat(r) for r in value):
            for i, item in enumerate(value):  # a few complex entries (denoise eval's sets): one section each
                _walk(item, f"{name}.{i}.", figures, tables)
        elif _is_rows(value):
            tables.append((name, value))
        elif _is_row_dict(value):
            tables.append((name, [{"": k, **v} for k, v in value.items()]))
        elif isinstance(value, dict):
            _walk(value, name + ".", figures, tables)


def shown_path(path: str | Path) -> str:
    """A path as the screen shows it: relative to the working directory under it, ``~/...`` under the home
    folder, else whole (the user must be able to paste it)."""
    full = Path(path).expanduser().absolute()
    for root, name in ((Path.cwd(), ""), (Path.home(), "~/")):
        if root in full.parents:
            return name + full.relative_to(root).as_posix()
    return str(path)


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending in an ellipsis when cut (a cell that must not wrap)."""
    return text if len(text) <= width else text[:max(width - 1, 0)].rstrip() + "\u2026"


def room_left(console_width: int, *widths: int) -> int:
    """Characters left for the last column of a SIMPLE_HEAD table without edges whose other columns are
    ``widths`` wide (each column also takes one space either side)."""
    return max(10, console_width - sum(w + 2 for w in widths) - 3)


def fit_columns(columns: list[str], rows: list[dict], width: int) -> tuple[list[str], list[str]]:
    """(columns shown, columns left out) so that a table of ``rows`` fits ``width`` without wrapping a cell: the
    first column always, then top-level columns before nested ones (``a.b``), each in its order."""
    need = {c: max([len(c)] + [len(r.get(c, "")) for r in rows]) + PAD for c in columns}
    order = columns[:1] + [c for c in columns[1:] if "." not in c] + [c for c in columns[1:] if "." in c]
    shown, used = [], 1
    for column in order:
        if not shown or used + need[column] <= width:
            shown.append(column)
            used += need[column]
    return [c for c in columns if c in shown], [c for c in columns if c not in shown]


def _names(columns: list[str]) -> str:
    """Column names, those of one nested group together: ``a.{0,1,2}``."""
    groups: dict[str, list[str]] = {}
    for column in columns:
        head, dot, tail = column.rpartition(".")
        groups.setdefault(head + dot if dot else column, []).append(tail if dot else "")
    return ", ".join(head if members == [""] else f"{head}{{{','.join(members)}}}" for head, members in groups.items())


def _wrapped(items: list[str], width: int, indent: str = "  ") -> list[str]:
    """``items`` joined by two spaces, broken between items (never inside one, unless it alone is too long)."""
    return textwrap.wrap("  ".join(i.replace(" ", "\u00a0") for i in items), width, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False) or [indent]


def _print_list(title: str, columns: list[str], rows: list[dict], width: int) -> None:
    """The long form of a table: one block per row (its first cell, then every other column as name value)."""
    console.print(title, style="italic", highlight=False)
    for row in rows:
        first = columns[0]
        head = f"- {first} {row.get(first, '')}" if first else f"- {row.get(first, '')}"
        lines = [head] + _wrapped([f"{c} {row[c]}" for c in columns[1:] if c in row], width - 1)
        console.print("\n".join(line.replace("\u00a0", " ") for line in lines), highlight=False, soft_wrap=True)


def _print_table(title: str, name: str, rows: list[dict], width: int, verbose: bool) -> None:
    flat = []
    for row in rows:
        scalars, nested = [], []
        _walk(row, "", scalars, nested)
        flat.append(dict(scalars))
    columns = list(dict.fromkeys(k for row in flat for k in row))
    if verbose:
        _print_list(f"{title}: {name}", columns, flat, width)
        return
    shown, left_out = fit_columns(columns, flat, width)
    caption = None
    if left_out:
        caption = (f"{len(left_out)} more column{'s' * (len(left_out) > 1)} in results.json "
                   f"(--verbose shows them): {_names(left_out)}")
    table = Table(title=f"{title}: {name}", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for column in shown:
        table.add_column(column, justify="left" if column == shown[0] else "right", no_wrap=True,
                         overflow="ellipsis")
    for row in flat:
        table.add_row(*(row.get(c, "") for c in shown))
    console.print(table)
    if caption:
        console.print("\n".join(textwrap.wrap(caption, width)), highlight=False, soft_wrap=True)


def show_results(results: dict, title: str, where: str | None = None, verbose: bool = False) -> None:
    """Print ``results`` as tables that fit the terminal; ``where``: the run directory (its results.json holds
    them all); ``verbose``: every column and every value whole (see the module docstring)."""
    width = console.width
    figures, tables = [], []
    _walk(results, "", figures, tables)
    for name, rows in tables:
        if len(rows) > MAX_ROWS and not verbose:
            figures.append((name, f"{len(rows)} rows (in results.json)"))
            continue
        _print_table(title, name, rows, width, verbose)
    if figures:
        table = Table(title=title, title_justify="left", show_header=False, box=box.SIMPLE, show_edge=False)
        table.add_column("figure", no_wrap=not verbose, overflow="fold")
        table.add_column("value", no_wrap=not verbose, overflow="fold")
        if not verbose:  # names whole (up to half the width), values cut to what is left
            name_w = min(max(len(n) for n, _ in figures), width // 2)
            value_w = room_left(width, name_w)
            figures = [(shorten(n, name_w), shorten(v, value_w)) for n, v in figures]
        for name, value in figures:
            table.add_row(name, value)
        console.print(table)
    if where:
        console.print(f"run directory: {where}", highlight=False)  # results.json, config.json, metrics, images/
