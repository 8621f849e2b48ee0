"""Certified accuracy of the points an ``advkit certify`` run has stored so far (RUN/points/<index>.json), for
runs still going or interrupted: the same table results.json gives at the end, on the points done. The points of a
run are certified in the order of its seeded subset, so the first k done are a random sample of the test set.

    python scripts/certify_summary.py runs/cert-gauss-s0 runs/cert-gauss-s1
    python scripts/certify_summary.py --markdown "Gaussian CNN=runs/cert-gauss-s0,runs/cert-gauss-s1" \\
        "shipped CNN + MSE denoiser=runs/cert-den-mse"
    python scripts/certify_summary.py --first 100 --markdown "10,000 samples=runs/cert-gauss-s0"

``--markdown``: one table row per ``LABEL=RUN[,RUN...]`` (the runs of one recipe at several training seeds):
certified accuracy at r = 0, 0.25, 0.5, 0.75 as mean +- std over the runs (sample std, n - 1), and how many
points each run has certified. ``--first K`` keeps each run's first K points (of its seeded subset: the same
points as a run with ``--n K``), to compare runs of different sizes on the same points. The tables of
docs/results/certify.md and the README come from this command.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from advkit.certify.runner import report_radii
from advkit.certify.smoothing import certified_accuracy

RADII = ("0", "0.25", "0.5", "0.75")


def table(run: Path, first: int | None = None) -> tuple[dict, dict[str, float], int]:
    """(config, certified accuracy per radius key, points done), on the run's first ``first`` points if given."""
    config = json.loads((run / "config.json").read_text())
    config["n"] = planned(config)  # resolved once: --n 0 means every point of the data
    points = [json.loads(p.read_text()) for p in sorted((run / "points").glob("*.json"))]
    if first is not None:
        from advkit.robustness.specs import load_points

        subset = load_points(config["data"], config["n"], config["seed"], config.get("subset", "random"))[2]
        kept = set(subset[:first].tolist())
        points = [p for p in points if p["index"] in kept]
        config = {**config, "n": min(first, config["n"])}
    radii = report_radii(config["samples"], config["alpha"], config["sigma"], config.get("radius_step", 0.25))
    return config, certified_accuracy(points, radii), len(points)


def planned(config: dict) -> int:
    """How many points the run certifies when whole (``--n 0``: every point of its data)."""
    if config["n"]:
        return config["n"]
    from advkit.robustness.specs import load_points

    return len(load_points(config["data"], None)[2])


def summary(run: Path) -> str:
    config, accuracy, done = table(run)
    cells = ", ".join(f"r={r}: {acc:.1%}" for r, acc in accuracy.items())
    return f"{run.name}: {done} of {config['n']} points, sigma {config['sigma']}, {config['samples']} samples: {cells}"


def markdown_row(label: str, runs: list[Path], first: int | None = None) -> str:
    tables = [table(run, first) for run in runs]
    cells = []
    for r in RADII:
        if any(r not in accuracy for _, accuracy, _ in tables):  # beyond what the samples can certify
            cells.append("-")
            continue
        values = [100 * accuracy[r] for _, accuracy, _ in tables]
        spread = f" +- {statistics.stdev(values):.1f}" if len(values) > 1 else ""
        cells.append(f"{statistics.mean(values):.1f}%{spread}")
    done = " / ".join(f"{count} of {config['n']}" for config, _, count in tables)
    samples = {config["samples"] for config, _, _ in tables}
    return f"| {label} | {len(runs)} | {done} | {', '.join(f'{s:,}' for s in sorted(samples))} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run folders, or with --markdown LABEL=RUN[,RUN...] rows")
    parser.add_argument("--markdown", action="store_true", help="one markdown table row per LABEL=RUN[,RUN...]")
    parser.add_argument("--first", type=int, default=None, help="keep each run's first K points of its subset")
    args = parser.parse_args()
    if args.markdown:
        print("| base classifier | runs | points certified | samples | r = 0 | r = 0.25 | r = 0.5 | r = 0.75 |")
        print("|---|---|---|---|---|---|---|---|")
        for spec in args.runs:
            label, _, runs = spec.partition("=")
            if not runs:
                parser.error(f"--markdown rows are LABEL=RUN[,RUN...]; got {spec!r}")
            print(markdown_row(label, [Path(r) for r in runs.split(",")], args.first))
    else:
        for folder in args.runs:
            print(summary(Path(folder)))
