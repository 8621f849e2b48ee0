"""The evaluation's results as a figure (robust accuracy vs eps, one line per attack, the worst case in bold) and a
Markdown report (the table, timings, diagnostics), both from the dict :func:`evaluate_robustness` returns.

    >>> results = evaluate_robustness(model, x, y, [0.1, 0.2, 0.3])
    >>> png, md = write_report(results, "runs/robustness-...", title="Madry CNN, PGD-AT")
"""

from __future__ import annotations

from pathlib import Path

from advkit.runtime.grids import save_figure


def plot_robust_accuracy(results: dict, path: str | Path, title: str = "") -> Path:
    """Robust accuracy against eps (eps 0: clean accuracy) for each attack and the worst case, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = results["robust_accuracy"]
    keys = sorted(table, key=float)
    eps = [0.0] + [float(k) for k in keys]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name in [*results["attacks"], "worst_case"]:
        values = [results["clean_accuracy"]] + [table[k].get(name, float("nan")) for k in keys]
        worst = name == "worst_case"
        # dashed on top, so an attack that is the worst case everywhere still shows beneath it
        ax.plot(eps, values, marker="o", label="worst case (per point)" if worst else name,
                linewidth=1.5 if worst else 2.5, linestyle="--" if worst else "-",
                color="black" if worst else None, zorder=3 if worst else 2)
    ax.set_xlabel(f"eps ({results['norm']}, pixels in [0, 1])")
    ax.set_ylabel("robust accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"robust accuracy, {results['n']} points", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def markdown_report(results: dict, title: str = "", figure: str | None = None, subset: str = "") -> str:
    """report.md text: robust accuracy per eps and attack, the worst case, seconds, and the diagnostics."""
    table = results["robust_accuracy"]
    names = [*results["attacks"], "worst_case"]
    lines = [f"# {title or 'Robustness evaluation'}", "",
             f"{results['n']} points ({subset or 'the points given'}), norm {results['norm']}, clean accuracy {results['clean_accuracy']:.2%}. "
             "A point counts as robust in the worst case only if it survives every attack run at that eps.", ""]
    if figure:
        lines += [f"![robust accuracy vs eps]({figure})", ""]
    lines += ["| eps | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in sorted(table, key=float):
        cells = [f"{table[key][n]:.2%}" if n in table[key] else "-" for n in names]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    if "autoattack-quick" in results["attacks"]:
        lines += ["", "autoattack-quick is AutoAttack at a QUICK budget (10 iterations for APGD-CE, APGD-T and FAB-T, "
                  "torchattacks' default, instead of the paper's 100): a quick look, weaker than the standard "
                  "evaluation; report `autoattack`."]
    lines += ["", "Seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in results["seconds"].items()), "", "## Diagnostics", ""]
    lines += [f"* {w}" for w in results["warnings"]] or ["No warning: no sign of gradient masking or a failing attack was seen."]
    return "\n".join(lines) + "\n"


def write_report(results: dict, directory: str | Path, title: str = "", subset: str = "") -> tuple[Path, Path]:
    """``robust_accuracy.png`` and ``report.md`` in ``directory`` (``subset``: which points, in words); returns
    their paths."""
    directory = Path(directory)
    png = plot_robust_accuracy(results, directory / "robust_accuracy.png", title)
    md = directory / "report.md"
    md.write_text(markdown_report(results, title, png.name, subset))
    return png, md
