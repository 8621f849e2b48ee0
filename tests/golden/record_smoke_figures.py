"""Record every recipe's ``--smoke`` figures (seeded, CPU) into smoke_figures.json.

tests/test_recipes_smoke.py reruns the smokes and compares with this file, so a change that moves a number is
caught (the command-layer refactor was checked this way). Rerun this only when a change of figures is intended:

    OMP_NUM_THREADS=1 python tests/golden/record_smoke_figures.py [RECIPE ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import torch

from advkit.cli.main import main
from advkit.recipes import all_recipes

HERE = Path(__file__).resolve().parent


def smoke_figures(name: str, out: Path) -> dict | None:
    """{figure: value} of one recipe's smoke report (None when the recipe could not run here)."""
    try:
        main(["recipe", "run", name, "--smoke", "--out", str(out), "--device", "cpu", "--quiet"])
    except SystemExit as e:
        if e.code:
            return None
    report = json.loads((out / "report.json").read_text())
    return {row["figure"]: row["advkit"] for row in report["rows"]}


if __name__ == "__main__":
    import os

    sys.path.insert(0, str(HERE.parent))
    from conftest import build_sample_data_root  # the sample denoising sets the tests use

    torch.set_num_threads(1)
    os.environ["ADVKIT_DATA"] = str(build_sample_data_root(Path(tempfile.mkdtemp()) / "advkit-data"))
    path = HERE / "smoke_figures.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in sys.argv[1:] or [r.name for r in all_recipes()]:
            found = smoke_figures(name, Path(tmp) / name)
            if found is not None:
                figures[name] = found
    path.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    print(f"{len(figures)} recipes recorded")
