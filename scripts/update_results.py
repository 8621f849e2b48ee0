"""Regenerate the results tables from recipe reports (no number is typed by hand).

    python scripts/update_results.py runs/recipe-fgsm-softmax-*/     # adopt new full (non-smoke) runs
    python scripts/update_results.py                                   # just rebuild the tables

Each adopted run's report.json is copied to docs/results/reports/<recipe>.json (the record behind the tables). Two
blocks are rewritten from all of them: the full table in docs/results/README.md (every figure of every recipe, its
data, machine and command) and the README's summary (one headline figure per recipe).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "docs" / "results" / "reports"
FULL = ROOT / "docs" / "results" / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
SUMMARY_BEGIN, SUMMARY_END = "<!-- summary:begin -->", "<!-- summary:end -->"
SUMMARY_PUBLISHED = 60  # characters of the published cell in the README summary (whole in the full table)
# The headline figure of a recipe is its first figure with a published value, except where a later one is the point
# of the paper (an editorial choice of which row to show; every number still comes from the report).
HEADLINE = {"pgd-at-mnist": "AutoAttack error after training, eps 0.3", "defense-gan-mnist": "BPDA accuracy",
            "linear-mnist": "success rate, eps 0.25"}


def fmt(value) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def adopt(run_dir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from advkit.data.paths import portable

    report = json.loads((run_dir / "report.json").read_text())
    if report.get("smoke"):
        raise SystemExit(f"{run_dir} is a --smoke run: its numbers are not results")
    REPORTS.mkdir(parents=True, exist_ok=True)
    # Reports made before paths were recorded portably: $ADVKIT_DATA/... and runs/..., never this machine's.
    (REPORTS / f"{report['recipe']}.json").write_text(json.dumps(portable(report, strict=True), indent=2, default=str) + "\n")


def reports() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(REPORTS.glob("*.json"))]


def seeds(report: dict) -> list:
    return report.get("seeds") or [report.get("seed")]


def command(report: dict) -> str:
    """The command that reruns the report: the recipe, with its seeds when there are several."""
    several = report.get("seeds")
    return f"advkit recipe run {report['recipe']}" + (f" --seeds {','.join(map(str, several))}" if several else "")


def value(row: dict, spread: bool = True) -> str:
    text = fmt(row["advkit"])
    if row.get("std") is not None and len(row.get("seeds") or []) > 1:  # several seeds: the mean is not all
        text += f" +- {row['std']:.2g}"
        if spread:
            text += f" (min {fmt(row['min'])}, max {fmt(row['max'])})"
    return text


def table() -> str:
    """Every figure of every recipe report."""
    lines = ["| recipe | figure | published | advkit | seeds | data | machine | command |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in reports():
        env = r["environment"]
        machine = f"{env['gpu']}" if env.get("gpu", "none") != "none" else f"CPU, {env['cpu cores']} cores"
        if env.get("commit", "unknown") != "unknown":
            machine += f", code {env['commit']}"
        for row in r["rows"]:
            lines.append(f"| {r['recipe']} | {row['figure']} | {row['published']} | {value(row)} | "
                         f"{', '.join(map(str, seeds(r)))} | {r['data']} | {machine} | `{command(r)}` |")
    return "\n".join(lines)


def headline(report: dict) -> dict:
    """A recipe's headline figure: :data:`HEADLINE`'s, else its first figure with a published value (else its
    first)."""
    chosen = [row for row in report["rows"] if row["figure"] == HEADLINE.get(report["recipe"])]
    published = chosen or [row for row in report["rows"] if not str(row["published"]).startswith("-")]
    return (published or report["rows"])[0]


def summary() -> str:
    """One row per recipe: its headline figure, published beside advkit's, and the seeds."""
    lines = ["| recipe | figure | published | advkit | seeds |", "| --- | --- | --- | --- | --- |"]
    for r in reports():
        row = headline(r)
        published = str(row["published"])
        if len(published) > SUMMARY_PUBLISHED:
            published = published[:SUMMARY_PUBLISHED - 1].rstrip() + "\u2026"
        lines.append(f"| {r['recipe']} | {row['figure']} | {published} | {value(row, spread=False)} | "
                     f"{', '.join(map(str, seeds(r)))} |")
    return "\n".join(lines)


def rewrite(path: Path, begin: str, end: str, block: str) -> None:
    text = path.read_text()
    if begin not in text or end not in text:
        raise SystemExit(f"{path.relative_to(ROOT)} lacks the markers {begin} ... {end}")
    head, rest = text.split(begin, 1)
    path.write_text(f"{head}{begin}\n{block}\n{end}{rest.split(end, 1)[1]}")


def main(argv: list[str]) -> None:
    for arg in argv:
        adopt(Path(arg))
    rewrite(FULL, BEGIN, END, table())
    rewrite(ROOT / "README.md", SUMMARY_BEGIN, SUMMARY_END, summary())


if __name__ == "__main__":
    main(sys.argv[1:])
