"""``advkit certify``'s figure (certified accuracy against the L2 radius, the empirical SmoothAdv accuracy beside it)
and report.md, both from the results dict of :func:`advkit.certify.runner.certify_run`.

    >>> png, md = write_report(results, "runs/certify-...")
"""

from __future__ import annotations

from pathlib import Path

from advkit.runtime.grids import save_figure


def plot_certified(results: dict, path: str | Path) -> Path:
    """Certified accuracy as a function of the radius (a step curve over every point's radius) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    points, n = results["points"], max(results["n"], 1)
    top = max(results["max_certifiable_radius"], 0.0) * 1.05 + 1e-6
    grid = np.linspace(0, top, 400)
    radii = np.array([p["radius"] if p["correct"] else -1.0 for p in points] or [-1.0])
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(grid, [(radii >= r).sum() / n for r in grid], label="certified (CERTIFY)", linewidth=2)
    empirical = results.get("empirical")
    if empirical:
        keys = sorted(empirical["robust_accuracy"], key=float)
        ax.plot([float(k) for k in keys], [empirical["robust_accuracy"][k] for k in keys], marker="o",
                linestyle="--", label=f"empirical (SmoothAdv, {empirical['n']} points)")
    ax.set_xlabel("L2 radius (pixels in [0, 1])")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"sigma {results['sigma']:g}, {results['n']} points, {results['samples']} samples, "
                 f"alpha {results['alpha']:g}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def markdown_report(results: dict, figure: str | None = None) -> str:
    """report.md text: the certified accuracy table, the attack beside it and the soundness check."""
    denoiser = f" behind the denoiser {results['denoiser']}" if results.get("denoiser") else ""
    lines = [f"# Randomized smoothing: {results['model']}{denoiser} on {results['data']}", "",
             f"Cohen et al.'s CERTIFY, sigma {results['sigma']:g}, {results['n']} points, n0 {results['n0']}, "
             f"{results['samples']} samples, alpha {results['alpha']:g} (the largest certifiable radius is "
             f"{results['max_certifiable_radius']:.3f}); abstained on {results['abstained']:.1%}. "
             f"{results['seconds']:.0f} s on {results['processes']} process(es), "
             f"{results['noisy_images_per_second']:.0f} noisy images/s.", ""]
    if figure:
        lines += [f"![certified accuracy vs radius]({figure})", ""]
    empirical = results.get("empirical")
    header = "| radius | certified accuracy |" + (" certified (attacked points) | empirical (SmoothAdv) |"
                                                    if empirical else "")
    lines += [header, "|---|---|" + ("---|---|" if empirical else "")]
    for key, value in results["certified_accuracy"].items():
        row = f"| {key} | {value:.1%} |"
        if empirical and key in empirical["robust_accuracy"]:
            row += f" {empirical['certified_accuracy'][key]:.1%} | {empirical['robust_accuracy'][key]:.1%} |"
        lines.append(row)
    if empirical:
        verdict = ("holds: the empirical robust accuracy is at or above the certified accuracy at every radius"
                   if empirical["empirical_at_least_certified"] else
                   "FAILS: the empirical robust accuracy is below the certified accuracy at some radius (an unsound "
                   "certificate, or a failure of probability alpha)")
        total = sum(empirical["violations"].values())
        lines += ["", f"Attack: {empirical['attack']}, on the first {empirical['n']} points.",
                  f"Soundness check {verdict}; points certified at r but broken within r: {total} "
                  "(each certificate may fail with probability alpha).", ""]
    return "\n".join(lines) + "\n"


def write_report(results: dict, directory: str | Path) -> tuple[Path, Path]:
    """``certified_accuracy.png`` and ``report.md`` in ``directory``; returns their paths."""
    directory = Path(directory)
    png = plot_certified(results, directory / "certified_accuracy.png")
    md = directory / "report.md"
    md.write_text(markdown_report(results, png.name))
    return png, md
