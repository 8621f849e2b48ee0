"""How the command line shows a command's results: the figures of results.json as tables that read at 80 columns.

Scalars (nested ones with dotted names) go in one figure/value table; a list of rows, or a dict of rows (denoise
eval's methods), becomes a table of its own; lists longer than ``MAX_ROWS`` stay in results.json only.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

MAX_ROWS = 20
console = Console()


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


def show_results(results: dict, title: str, where: str | None = None) -> None:
    """Print ``results`` as tables; ``where``: the run directory (its results.json holds them all)."""
    figures, tables = [], []
    _walk(results, "", figures, tables)
    for name, rows in tables:
        if len(rows) > MAX_ROWS:
            figures.append((name, f"{len(rows)} rows (in results.json)"))
            continue
        flat = []
        for row in rows:
            scalars, nested = [], []
            _walk(row, "", scalars, nested)
            flat.append(dict(scalars))
        columns = list(dict.fromkeys(k for row in flat for k in row))
        table = Table(title=f"{title}: {name}", title_justify="left")
        for column in columns:
            table.add_column(column, justify="left" if column == "" else "right", overflow="fold")
        for row in flat:
            table.add_row(*(row.get(c, "") for c in columns))
        console.print(table)
    if figures:
        table = Table(title=title, title_justify="left", show_header=False)
        table.add_column("figure", overflow="fold")
        table.add_column("value", justify="right", overflow="fold")
        for name, value in figures:
            table.add_row(name, value)
        console.print(table)
    if where:
        console.print(f"run directory: {where} (results.json, config.json, metrics, images/)", highlight=False)
