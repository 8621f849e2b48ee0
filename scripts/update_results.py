"""Regenerate the README "Results" table from recipe reports (no number is typed by hand).

    python scripts/update_results.py runs/recipe-fgsm-softmax-*/     # adopt new full (non-smoke) runs
    python scripts/update_results.py                                   # just rebuild the table

Each adopted run's report.json is copied to docs/results/reports/<recipe>.json (the record behind the
table); the README block between the results markers is rewritten from all of them.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "docs" / "results" / "reports"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def fmt(value) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def adopt(run_dir: Path) -> None:
    report = json.loads((run_dir / "report.json").read_text())
    if report.get("smoke"):
        raise SystemExit(f"{run_dir} is a --smoke run: its numbers are not results")
    REPORTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(run_dir / "report.json", REPORTS / f"{report['recipe']}.json")


def table() -> str:
    lines = ["| recipe | figure | published | advkit | data | machine | command |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for path in sorted(REPORTS.glob("*.json")):
        r = json.loads(path.read_text())
        env = r["environment"]
        machine = f"{env['gpu']}" if env.get("gpu", "none") != "none" else f"CPU, {env['cpu cores']} cores"
        if env.get("commit", "unknown") != "unknown":
            machine += f", code {env['commit']}"
        for row in r["rows"]:
            value = fmt(row["advkit"])
            if "std" in row:  # a --seeds report: the mean is not the whole figure
                value += f" +- {fmt(row['std'])} (min {fmt(row['min'])}, max {fmt(row['max'])}; seeds {row['seeds']})"
            lines.append(f"| {r['recipe']} | {row['figure']} | {row['published']} | {value} | "
                         f"{r['data']} | {machine} | `{r['command']}` |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    for arg in argv:
        adopt(Path(arg))
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = f"{BEGIN}\n{table()}\n{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text += f"\n## Results\n\nBuilt by `python scripts/update_results.py` from the recipe reports in docs/results/reports.\n\n{block}\n"
    readme.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
