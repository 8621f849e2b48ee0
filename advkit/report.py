"""``report.md`` for a recipe run: the published figure beside advkit's, with everything needed to rerun it."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from advkit.recipes import Recipe, lookup


def source_commit() -> str:
    """The git commit advkit runs from (``+dirty`` with uncommitted changes), or "unknown" outside a checkout:
    a report names the exact code that made its numbers."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", "advkit"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment() -> dict[str, str]:
    import torch
    import torchvision

    from advkit.version import __version__

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {"advkit": __version__, "commit": source_commit(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "python": sys.version.split()[0], "platform": platform.platform(),
            "cpu cores": str(os.cpu_count()), "gpu": gpu}


def format_figure(value: Any, row: dict | None = None) -> str:
    """A figure as the report prints it; a several-seed row as mean +- std (min..max over the seeds)."""
    if row and row.get("seeds"):
        if row.get("std") is None:
            return format_figure(value)
        return f"{value:.4g} +- {row['std']:.2g} (min {row['min']:.4g}, max {row['max']:.4g}; seeds {row['seeds']})"
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def build_report(recipe: Recipe, run: Path, argv: list[str], smoke: bool, results: dict[str, Any]) -> dict[str, Any]:
    """The recipe's published figures beside the ones its run measured (``results``: what the command returned)."""
    from advkit.data.paths import portable
    from advkit.runtime.rundir import plain

    results = portable(plain(results))
    config = portable(json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {})
    published = recipe.meta.get("published", {})
    measured_paths = recipe.meta.get("measured", {})
    rows = [{"figure": name, "published": published.get(name, "-"),
             "advkit": lookup(results, measured_paths[name]) if name in measured_paths else None}
            for name in dict.fromkeys([*published, *measured_paths])]
    return {"recipe": recipe.name, "title": recipe.title, "paper": recipe.meta.get("paper", ""),
            "reproduces": recipe.meta.get("reproduces", ""), "smoke": smoke, "command": portable("advkit " + " ".join(argv)),
            "data": results.get("data") or recipe.meta.get("data", ""), "seed": config.get("seed"),
            "rows": rows, "config": config, "environment": environment(), "run": portable(str(run))}


def aggregate_seeds(reports: list[dict[str, Any]], seeds: list[int], root: str | Path | None = None) -> dict[str, Any]:
    """One report for several seeds (runs under ``root``): each figure's mean, std (sample), min, max and per-seed
    values; its command is the one that reruns them all (``advkit recipe run NAME --seeds 0,1,2``)."""
    import statistics

    from advkit.data.paths import portable

    root = portable(str(root if root is not None else Path(reports[0]["run"]).parent))
    merged = {**reports[0], "seed": seeds, "seeds": seeds, "run": root,
              "command": f"advkit recipe run {reports[0]['recipe']} --seeds {','.join(map(str, seeds))}"
                         f"{' --smoke' if reports[0].get('smoke') else ''} --out {root}",
              "seed_commands": [r["command"] for r in reports], "runs": [r["run"] for r in reports]}
    rows = []
    for i, row in enumerate(reports[0]["rows"]):
        values = [r["rows"][i]["advkit"] for r in reports]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out = {**row, "per_seed": values, "seeds": seeds}
        if len(numbers) == len(values) and numbers:
            out.update(advkit=statistics.fmean(numbers), std=statistics.stdev(numbers) if len(numbers) > 1 else 0.0,
                       min=min(numbers), max=max(numbers))
        else:
            out.update(advkit=values[0], std=None)
        rows.append(out)
    merged["rows"] = rows
    return merged


def write_report(report: dict[str, Any], run: Path) -> Path:
    (run / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    lines = [f"# {report['title']}", ""]
    if report["smoke"]:
        lines += ["> **Smoke run** (tiny settings, checks the code path): the numbers below are not a reproduction.", ""]
    lines += [f"Reproduces: {report['reproduces'] or report['title']} ({report['paper']}).", "",
              "| figure | published | advkit |", "| --- | --- | --- |"]
    lines += [f"| {r['figure']} | {r['published']} | {format_figure(r['advkit'], r)} |" for r in report["rows"]]
    lines += ["", f"Data: {report['data'] or 'see config'}", "", "Command:", "", "```bash", report["command"], "```", ""]
    images = sorted(p for p in run.rglob("*.png") if "checkpoints" not in p.parts)
    images += sorted(p for p in run.rglob("*.gif") if "checkpoints" not in p.parts)
    if images:
        lines += ["## Figures", ""]
        lines += [f"![{p.stem}]({p.relative_to(run).as_posix()})" for p in images[:24]]
        lines += [""]
    lines += ["## Resolved configuration", "", "```json", json.dumps(report["config"], indent=2, default=str), "```", "",
              "## Versions and machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in report["environment"].items()]
    lines += [f"| seed | {report['seed']} |", ""]
    path = run / "report.md"
    path.write_text("\n".join(lines))
    return path
