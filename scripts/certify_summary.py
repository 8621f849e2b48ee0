"""Certified accuracy of the points an ``advkit certify`` run has stored so far (RUN/points/<index>.json), for
runs still going or interrupted: the same table results.json gives at the end, on the points done. The points of a
run are certified in the order of its seeded subset, so the first k done are a random sample of the test set.

    python scripts/certify_summary.py runs/cert-gauss-s0 runs/cert-gauss-s1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advkit.certify.runner import report_radii
from advkit.certify.smoothing import certified_accuracy


def summary(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())
    points = [json.loads(p.read_text()) for p in sorted((run / "points").glob("*.json"))]
    radii = report_radii(config["samples"], config["alpha"], config["sigma"], config.get("radius_step", 0.25))
    table = certified_accuracy(points, radii)
    cells = ", ".join(f"r={r}: {acc:.1%}" for r, acc in table.items())
    return f"{run.name}: {len(points)} of {config['n']} points, sigma {config['sigma']}, {config['samples']} samples: {cells}"


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(summary(Path(folder)))
