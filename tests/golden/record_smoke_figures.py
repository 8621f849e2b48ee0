"""Record every recipe's ``--smoke`` figures (seeded, CPU) into smoke_figures.json.

tests/test_recipes_smoke.py reruns the smokes and compares with this file, so a change that moves a number is
caught (the command-layer refactor was checked this way), within the tolerances derived in tests/golden/README.md.
A recipe that asks for bf16 (``amp = true``) is also recorded as ``NAME@float32``, what a CPU without native bf16
runs (simulated with ATEN_CPU_CAPABILITY=avx2). Rerun this only when a change of figures is intended:

    OMP_NUM_THREADS=1 python tests/golden/record_smoke_figures.py [RECIPE ...]

To measure how far another CPU moves them (tests/golden/README.md), write them elsewhere instead, e.g. as a CPU
without AVX512 computes them, with two threads, or at another seed (a real change), then compare:

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
        python tests/golden/record_smoke_figures.py --to runs/spread/avx2-t1.json
    python tests/golden/record_smoke_figures.py --to runs/spread/seed1.json --seed 1
    python tests/golden/spread.py runs/spread/*.json
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


def smoke_figures(name: str, out: Path, seed: int | None = None) -> dict | None:
    """{figure: value} of one recipe's smoke report (None when the recipe could not run here)."""
    try:
        main(["recipe", "run", name, "--smoke", "--out", str(out), "--device", "cpu", "--quiet",
              *(["--seeds", str(seed)] if seed is not None else [])])
    except SystemExit as e:
        if e.code:
            return None
    report = json.loads((out / "report.json").read_text())
    return {row["figure"]: row["advkit"] for row in report["rows"]}


if __name__ == "__main__":
    import argparse
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipes", nargs="*", help="recipe names (default: all)")
    parser.add_argument("--to", type=Path, default=None, help="write here instead of the golden file")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=None, help="run at this seed instead of the recipe's")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    from conftest import build_sample_data_root  # the sample denoising sets the tests use

    torch.set_num_threads(args.threads)
    os.environ["ADVKIT_DATA"] = str(build_sample_data_root(Path(tempfile.mkdtemp()) / "advkit-data"))
    path = args.to or HERE / "smoke_figures.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    recipes = {r.name: r for r in all_recipes()}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.recipes or list(recipes):
            found = smoke_figures(name, Path(tmp) / name, args.seed)
            if found is not None:
                figures[name] = found
            if recipes[name].smoke_options().get("amp"):  # bf16 here; float32 on CPUs without native bf16
                os.environ["ATEN_CPU_CAPABILITY"] = "avx2"  # advkit.runtime.amp: counts as no native bf16
                found = smoke_figures(name, Path(tmp) / f"{name}-float32", args.seed)
                del os.environ["ATEN_CPU_CAPABILITY"]
                if found is not None:
                    figures[f"{name}@float32"] = found
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    print(f"{len(figures)} recipes recorded")
