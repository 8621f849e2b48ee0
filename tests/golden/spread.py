"""How far other CPUs (and a real change) move the golden smoke figures: for every float figure of
smoke_figures.json, the largest relative difference over the given runs whose file name does not start with
"seed" (CPU spread), and over those that do (the effect of another seed). Runs come from
``record_smoke_figures.py --to FILE``; the tolerances in tests/test_recipes_smoke.py are chosen between the two.

    python tests/golden/spread.py runs/spread/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def relative(value, golden) -> float | None:
    if not isinstance(value, (int, float)) or not isinstance(golden, float):
        return None
    return 0.0 if value == golden else abs(value - golden) / max(abs(golden), 1e-12)


def main(paths: list[Path]) -> None:
    golden = json.loads((HERE / "smoke_figures.json").read_text())
    runs = {p.stem: json.loads(p.read_text()) for p in paths}
    print(f"{'recipe':24} {'CPU spread':>10} {'seed effect':>11}  (largest relative change of any float figure)")
    for recipe, figures in sorted(golden.items()):
        cpu, seed = [], []
        for name, run in runs.items():
            found = run.get(recipe)
            if not isinstance(found, dict):
                continue
            moved = [relative(found.get(k), v) for k, v in figures.items()]
            (seed if name.startswith("seed") else cpu).extend(m for m in moved if m is not None)
        show = lambda xs: f"{max(xs):.1e}" if xs else "-"  # noqa: E731
        print(f"{recipe:24} {show(cpu):>10} {show(seed):>11}")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]])
