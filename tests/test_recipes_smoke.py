"""Every shipped recipe runs end to end with ``--smoke`` (same code path, tiny settings), so none can rot.

For each recipe: ``advkit recipe run NAME --smoke`` exits 0, writes report.md and report.json, and every figure
the recipe promises to measure (``[recipe.measured]``) is found in the command's results.json. The denoising
recipes run on small sample sets under the real names (tests/conftest.py); Fashion-MNIST recipes skip without the
Debian package. One in-process run per recipe: all of them together take well under a minute on one CPU thread.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from advkit.errors import AdvkitError
from advkit.data.paths import portable_path
from advkit.recipes import Recipe, all_recipes

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "golden" / "smoke_figures.json").read_text())
RECIPES = all_recipes()
# Relative tolerances of the golden comparison, from the measurements in tests/golden/README.md: every recipe's
# smoke figures under ATEN_CPU_CAPABILITY avx512 / avx2 / default (oneDNN and MKL capped at AVX2 for avx2; one
# thread, as tests/conftest.py sets), against the same smokes at seed 1 (a real change). "*": no figure moved by more than 1.1e-6
# relative across CPUs (float32 sums in another order), while seed 1 moves a figure of every recipe whose smoke
# depends on the seed by 1.4e-2 or more: 1e-4 is 90x the spread and 100x below a real change. denoise-original:
# its one figure (PSNR of a barely trained model) moved 0 across CPUs and 1.3e-5 with the seed: 2e-6 (16 float32
# ulps). hgd-mnist: training the guided denoiser amplifies the last bits, LGD moved 3.9e-3 (AVX2) while seed 1
# moves it 180%: 2e-2. denoise-fast (bf16 where native, else float32 against its @float32 golden): bf16 moved
# 5.9e-5 between runs here, all of bf16 vs float32 is 9.3e-4, seed 1 moves its figures 4.3e-3 to 9.4e-3: 2e-3.
# Integer figures (counts) must be equal.
GOLDEN_REL_TOL = {"*": 1e-4, "denoise-original": 2e-6, "hgd-mnist": 2e-2, "denoise-fast": 2e-3}
REQUIRED_META = ("title", "reproduces", "paper", "data", "cpu-time", "gpu-time", "published", "measured", "smoke")


def _missing_data(recipe: Recipe) -> str | None:
    """Why this recipe's data is absent here (None when it is all present)."""
    options = recipe.smoke_options()
    if options.get("dataset") == "fashion-mnist":
        from advkit.data import load_dataset

        try:
            load_dataset("fashion-mnist", "test")
        except AdvkitError as e:
            return f"{recipe.name}: Fashion-MNIST is not installed ({e.message})"
    return None


def _run(args: list[str]) -> int:
    from advkit.cli.main import main

    try:
        main(args)
    except SystemExit as e:  # main() always exits with the command's status
        return int(e.code or 0)
    return 0


def test_recipes_ship_complete_metadata():
    assert len(RECIPES) >= 19, [r.name for r in RECIPES]
    for r in RECIPES:
        missing = [k for k in REQUIRED_META if k not in r.meta]
        assert not missing, f"{r.name}: [recipe] lacks {missing}"
        measured, published = r.meta["measured"], r.meta["published"]
        assert measured, f"{r.name}: no measured figure"
        # Every measured figure sits beside a published value (or an explicit "-") in the report and README.
        assert set(measured) <= set(published), f"{r.name}: measured without a published entry: {set(measured) - set(published)}"
        assert all(isinstance(p, str) and p for p in measured.values()), r.name
        # A published value cites a paper or says "advkit target", never a tracker's issue number.
        assert not [v for v in published.values() if "issue" in str(v).lower()], f"{r.name}: {published}"
        # Names and published values become README table cells: a "|" would split the row.
        cells = [*published, *map(str, published.values()), r.meta["data"], r.meta["title"]]
        assert not [c for c in cells if "|" in c], f"{r.name}: '|' in {[c for c in cells if '|' in c]}"
        # Smoke overrides are option values of the same command, never a different code path.
        assert "command" not in r.meta["smoke"] and "recipe" not in r.meta["smoke"], r.name


# The smokes whose golden figures moved at all across instruction sets (tests/golden/README.md) run again in CI's
# numerics pass; the others record only exact counts and error rates (identical on every CPU measured).
CPU_SENSITIVE = {"advtrain-maxout", "cgan-mnist", "dcgan-mnist", "denoise-fast", "denoise-shipped", "denoiser-mnist",
                 "gan-mnist-source", "hgd-mnist", "sngan-mnist", "stacked-mnist", "stacked-mnist-dcgan", "toy1d",
                 "wgan-gp-mnist", "wgan-mnist"}


@pytest.mark.parametrize("recipe", [pytest.param(r, marks=[pytest.mark.numerics] if r.name in CPU_SENSITIVE else [])
                                    for r in RECIPES], ids=[r.name for r in RECIPES])
def test_recipe_smoke_run(recipe: Recipe, tmp_path, monkeypatch, denoise_sets):
    reason = _missing_data(recipe)
    if reason:
        pytest.skip(reason)
    monkeypatch.chdir(ROOT)  # (denoise_sets: ADVKIT_DATA holds sample sets named CBSD432, CBSD68, ...)
    run = tmp_path / recipe.name
    code = _run(["recipe", "run", recipe.name, "--smoke", "--out", str(run), "--device", "cpu"])
    assert code == 0, f"advkit recipe run {recipe.name} --smoke exited {code}"
    assert (run / "report.md").is_file() and (run / "results.json").is_file()
    report = json.loads((run / "report.json").read_text())
    assert report["smoke"] is True and report["recipe"] == recipe.name
    assert "--smoke" not in report["command"] and f"--out {portable_path(run)}" in report["command"]
    # The data root is recorded as $ADVKIT_DATA and the checkout's paths relative to it (the working directory).
    assert str(denoise_sets.parent) not in json.dumps(report) and str(ROOT) not in json.dumps(report)
    rows = {row["figure"]: row["advkit"] for row in report["rows"]}
    absent = [name for name in recipe.meta["measured"] if rows.get(name) is None]
    assert not absent, (f"{recipe.name}: results.json has no value at "
                        f"{[recipe.meta['measured'][n] for n in absent]} for {absent}")
    for name in recipe.meta["measured"]:
        value = rows[name]
        assert isinstance(value, (int, float)) and value == value, f"{recipe.name}: {name} = {value!r} is not a number"
    text = (run / "report.md").read_text()
    assert "Smoke run" in text and recipe.meta["title"] in text
    # Behaviour unchanged: the seeded smoke gives the figures recorded before the command-layer refactor
    # (tests/golden/record_smoke_figures.py; re-record only for an intended change of figures), within a tolerance
    # that another instruction set or BLAS cannot break but a real change (another seed) does.
    results = json.loads((run / "results.json").read_text())
    name = recipe.name + ("@float32" if results.get("precision") == "float32" else "")
    golden = GOLDEN.get(name, GOLDEN.get(recipe.name) if name == recipe.name else None)
    if golden is not None:
        rel_tol = GOLDEN_REL_TOL.get(recipe.name, GOLDEN_REL_TOL["*"])
        changed = {k: (v, rows.get(k)) for k, v in golden.items()
                   if not (rows.get(k) == v or (isinstance(v, float) and isinstance(rows.get(k), (int, float))
                                               and math.isclose(rows[k], v, rel_tol=rel_tol, abs_tol=1e-6)))}
        assert not changed, f"{name}: smoke figures changed beyond rel {rel_tol:g} (recorded, now): {changed}"


def test_list_values_become_comma_lists_or_repeated_options(tmp_path):
    import click
    from click.testing import CliRunner

    from advkit.cli.common import session_options
    from advkit.commands.denoise_eval import DenoiseEvalConfig
    from advkit.commands.linear import LinearConfig
    from advkit.commands.recipe import list_options, recipe_argv

    assert "set" in list_options(DenoiseEvalConfig) and not list_options(LinearConfig)
    argv = recipe_argv(["denoise", "eval"], {"set": ["A", "B"], "eps": [0.1, 0.25]}, {"set"})
    assert argv == ["denoise", "eval", "--set", "A", "--set", "B", "--eps", "0.1,0.25"]

    @click.command("demo")
    @click.option("--folder", "folders", multiple=True)
    @click.option("--eps", default="0.1")
    @session_options
    def demo(folders, eps, **options):
        click.echo(f"{list(folders)} {eps}")

    recipe = tmp_path / "r.toml"
    recipe.write_text('command = "demo"\nfolder = ["x", "y"]\neps = [0.1, 0.25]\n')
    result = CliRunner().invoke(demo, ["--recipe", str(recipe)], standalone_mode=False, catch_exceptions=False)
    assert result.output.strip() == "['x', 'y'] 0.1,0.25"


def test_seeds_run_each_seed_and_report_mean_std_min_max(tmp_path, monkeypatch):
    """`recipe run NAME --seeds 0,1,2`: one run per seed, one report whose figures aggregate them exactly."""
    import statistics

    monkeypatch.chdir(ROOT)
    out = tmp_path / "seeds"
    assert _run(["recipe", "run", "ring-gan", "--smoke", "--seeds", "0,1,2", "--out", str(out), "--device", "cpu",
                 "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    per_seed = [json.loads((out / f"seed-{s}" / "report.json").read_text()) for s in (0, 1, 2)]
    assert [r["seed"] for r in per_seed] == [0, 1, 2] and report["seeds"] == [0, 1, 2]
    for i, row in enumerate(report["rows"]):
        values = [r["rows"][i]["advkit"] for r in per_seed]
        assert row["per_seed"] == values
        if all(isinstance(v, (int, float)) for v in values):
            assert row["advkit"] == pytest.approx(statistics.fmean(values))
            assert row["std"] == pytest.approx(statistics.stdev(values))
            assert (row["min"], row["max"]) == (min(values), max(values))
    assert "+-" in (out / "report.md").read_text()
    assert report["command"] == f"advkit recipe run ring-gan --seeds 0,1,2 --smoke --out {portable_path(out)}"


def test_seeds_resume_keeps_finished_seeds_and_continues_an_interrupted_one(tmp_path, monkeypatch):
    """`--seeds 0,1,2 --resume` into an --out holding seed 0 (finished) and seed 1 (interrupted after its last
    checkpoint): seed 0 is not run again, seed 1 continues from its checkpoint, seed 2 runs, and the report
    aggregates all three exactly as one uninterrupted `--seeds 0,1,2` run does."""
    monkeypatch.chdir(ROOT)
    args = ["--smoke", "--device", "cpu", "--quiet"]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert _run(["recipe", "run", "ring-gan", "--seeds", "0,1,2", "--out", str(whole), *args]) == 0
    assert _run(["recipe", "run", "ring-gan", "--seeds", "0", "--out", str(parts), *args]) == 0
    assert _run(["recipe", "run", "ring-gan", "--seeds", "1", "--out", str(parts), "--resume", *args]) == 0
    for name in ("report.json", "results.json", "report.md"):  # seed 1 stopped after its checkpoint
        (parts / "seed-1" / name).unlink()
    kept = (parts / "seed-0" / "report.json").stat().st_mtime_ns
    assert _run(["recipe", "run", "ring-gan", "--seeds", "0,1,2", "--out", str(parts), *args]) == 2  # no --resume
    assert _run(["recipe", "run", "ring-gan", "--seeds", "0,1,2", "--out", str(parts), "--resume", *args]) == 0
    assert (parts / "seed-0" / "report.json").stat().st_mtime_ns == kept
    results = json.loads((parts / "seed-1" / "results.json").read_text())
    assert results["changed_on_resume"] == {}  # continued in place, with the same options
    rows = lambda root: [(r["figure"], r["per_seed"]) for r in json.loads((root / "report.json").read_text())["rows"]]
    assert rows(parts) == rows(whole)


def test_resume_refuses_a_finished_run_of_another_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "run"
    args = ["--smoke", "--device", "cpu", "--quiet"]
    assert _run(["recipe", "run", "ring-gan", "--seeds", "0", "--out", str(out), *args]) == 0
    (out / "seed-0").rename(out / "seed-1")  # a finished seed-0 run filed under seed 1
    assert _run(["recipe", "run", "ring-gan", "--seeds", "1", "--out", str(out), "--resume", *args]) == 2
