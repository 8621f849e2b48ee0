"""A defence evaluation's results as a bar chart (accuracy per attack, oblivious to adaptive) and report.md, both
from the dict :func:`advkit.defenses.evaluate.evaluate_defense` returns.

    >>> png, md = write_report(results, "runs/eval-defense-...", title="JPEG 75 on the MNIST CNN")
"""

from __future__ import annotations

from pathlib import Path

from advkit.defenses.evaluate import ADAPTIVE
from advkit.runtime.grids import save_figure


def plot_accuracy(results: dict, path: str | Path, title: str = "") -> Path:
    """Accuracy per attack (grey: no or oblivious attack; red: adaptive; black: the worst case) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*results["attacks"], "worst_case"]
    values = [results["accuracy"][n] for n in names]
    colours = ["black" if n == "worst_case" else "tab:red" if n in ADAPTIVE else "tab:grey" for n in names]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    bars = ax.bar(names, values, color=colours)
    ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=8)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(f"accuracy at eps {results['eps']:g} (L-inf)")
    ax.set_title(title or f"defended accuracy, {results['n']} points", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)


def markdown_report(results: dict, title: str = "", figure: str | None = None) -> str:
    names = [*results["attacks"], "worst_case"]
    lines = [f"# {title or 'Defence evaluation'}", "",
             f"{results['n']} points, L-inf eps {results['eps']:g}; the purifier is "
             f"{'' if results['differentiable'] else 'not '}differentiable and "
             f"{'randomised' if results['randomized'] else 'deterministic'}. Every attack is scored by the defended "
             "model on the same points; the worst case counts a point only if it survives every attack.", ""]
    if figure:
        lines += [f"![accuracy per attack]({figure})", ""]
    lines += ["| attack | accuracy | seconds |", "|---|---|---|"]
    lines += [f"| {n} | {results['accuracy'][n]:.2%} | {results['seconds'].get(n, 0):.1f} |" for n in names]
    if "undefended" in results:
        lines += ["", f"No defence: the classifier alone keeps {results['undefended']:.2%} of the points under the "
                  "oblivious attack's PGD examples (the baseline the conclusion compares with)."]
    lines += ["", f"**Conclusion:** {results['conclusion']}.", ""]
    return "\n".join(lines)


def write_report(results: dict, directory: str | Path, title: str = "", name: str = "report.md") -> tuple[Path, Path]:
    """``defense_accuracy.png`` and ``name`` (the markdown report) in ``directory``; returns their paths."""
    directory = Path(directory)
    png = plot_accuracy(results, directory / "defense_accuracy.png", title)
    md = directory / name
    md.write_text(markdown_report(results, title, png.name))
    return png, md
