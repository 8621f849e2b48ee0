"""``advkit linear``: why linear models have adversarial examples (Goodfellow et al. 2015, section 3).

    advkit linear                          # logistic-regression numbers, then break an MNIST softmax regression
    advkit linear --target 3 --eps 0.05,0.1,0.2,0.25

Part 1 prints the 10-dimensional logistic-regression demo (x.w = -3, P = 0.0474; x + 0.5 sign(w): score 2,
P = 0.8808: the score moved by eps * ||w||_1 = 0.5 * 10). Part 2 trains a softmax regression on the MNIST
training split, draws its ten weight templates, and pushes test digits of every other class to ``--target``
with targeted FGSM (a step along the difference of templates), reporting the success rate per eps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from advkit.cli.common import compute_options, config_from, options_from, start_session
from advkit.cli.fgsm import parse_eps_list
from advkit.errors import AdvkitError


@dataclass
class LinearConfig:
    target: int = field(default=3, metadata={"help": "Class every digit is pushed towards."})
    eps: str = field(default="0.02,0.05,0.1,0.15,0.2,0.25", metadata={"help": "Comma list of L-inf budgets."})
    figure_eps: float = field(default=0.15, metadata={"help": "eps of the before/after digit figure."})
    epochs: int = field(default=20, metadata={"help": "SGD epochs of the softmax regression."})
    n: int = field(default=10000, metadata={"help": "Test images attacked."})

    def eps_list(self) -> list[float]:
        return parse_eps_list(self.eps)

    def __post_init__(self) -> None:
        self.eps_list()
        if not 0 <= self.target <= 9:
            raise AdvkitError(f"--target must be a digit class 0-9; got {self.target}")
        if not 0 <= self.figure_eps <= 1 or self.epochs <= 0 or self.n <= 0:
            raise AdvkitError("--figure-eps must be in [0, 1]; --epochs and --n must be positive")


@click.command("linear")
@options_from(LinearConfig)
@compute_options
def command(**options) -> None:
    """The linearity demo: logistic regression, and breaking a linear MNIST classifier."""
    config = config_from(LinearConfig, options)
    with start_session("linear", options) as session:
        results = run(config, session)
        session.run.save_json("results.json", results)
        session.echo(f"run directory: {session.run.path} (results.json, images/)")


def run(config: LinearConfig, session) -> dict:
    import torch
    from rich.console import Console
    from rich.table import Table

    from advkit.adversarial.linear import logistic_demo, target_success, train_softmax_regression
    from advkit.attacks import predict
    from advkit.data import load_dataset

    demo = logistic_demo()
    session.echo("[bold]1. Logistic regression[/bold] x = [2,-1,3,-2,2,2,1,-4,5,1], w = [-1,-1,1,-1,1,-1,1,1,-1,1]")
    session.echo(f"   x.w = {demo['score']:g}, P(y=1|x) = sigma(-3) = {demo['p']:.4f}")
    session.echo(f"   x + {demo['eps']:g}*sign(w) = {demo['x_adv']}: score {demo['score_adv']:g}, P(y=1) = {demo['p_adv']:.4f}")
    session.echo(f"   every coordinate moved by only {demo['eps']:g}, yet the score moved by eps*||w||_1 = "
                 f"{demo['eps']:g}*{demo['w_l1']:g} = {demo['score_shift']:g}: the shift grows linearly with the dimension "
                 f"(784 for MNIST, 150528 for ImageNet) while the L-inf size of the change stays eps.")

    train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test").subset(config.n)
    model = train_softmax_regression(train.images.to(session.device), train.labels.to(session.device),
                                     epochs=config.epochs, seed=int(session.options.get("seed", 0)))
    images, labels = test.images.to(session.device), test.labels.to(session.device)
    pred, _ = predict(model, images)
    clean_error = (pred != labels).float().mean().item()
    session.echo(f"\n[bold]2. Breaking a linear classifier[/bold]: softmax regression trained on the {train.source} "
                 f"({config.epochs} epochs), test error {clean_error:.2%} on {len(test)} images of the {test.source}")
    rows = target_success(model, images, labels, config.target, config.eps_list())
    table = Table(title=f"targeted FGSM: every digit -> {config.target}")
    for col in ("eps", "max logit-gap shift eps*||w_t-w_y||_1 (mean)", "success rate", "mean confidence in target"):
        table.add_column(col, justify="right")
    w = model.linear.weight.detach()
    mean_l1 = torch.stack([(w[config.target] - w[c]).abs().sum() for c in range(10) if c != config.target]).mean().item()
    for r in rows:
        r["mean_logit_shift_bound"] = r["eps"] * mean_l1
        table.add_row(f"{r['eps']:g}", f"{r['mean_logit_shift_bound']:.2f}", f"{r['success_rate']:.1%}",
                      f"{r['mean_target_confidence']:.1%}")
    Console().print(table)
    figures = _figures(model, images, labels, rows, config, session.run.images)
    for f in figures.values():
        session.echo(f"figure: {f}")
    return {"logistic_demo": demo, "softmax_regression": {"train": train.source, "test": test.source, "n_test": len(test),
            "epochs": config.epochs, "clean_error": clean_error, "target": config.target, "rows": rows},
            "figures": {k: str(v) for k, v in figures.items()}}


def _figures(model, images, labels, rows, config, folder) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from advkit.adversarial.linear import templates
    from advkit.attacks import FGSM, predict

    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    t = templates(model).cpu()
    fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
    for k, ax in enumerate(axes):
        lim = t[k].abs().max().item()
        ax.imshow(t[k, 0].numpy(), cmap="seismic", vmin=-lim, vmax=lim)
        ax.set_title(f"w_{k}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    out["templates"] = folder / "templates.png"
    fig.savefig(out["templates"], dpi=100)
    plt.close(fig)

    # One test digit of every other class, before and after the targeted step.
    idx = [int((labels == c).nonzero()[0]) for c in range(10) if c != config.target and (labels == c).any()]
    x = images[idx]
    target = torch.full((len(idx),), config.target, device=x.device)
    x_adv = FGSM(model, config.figure_eps, targeted=True)(x, target)
    p0, c0 = predict(model, x)
    p1, c1 = predict(model, x_adv)
    fig, axes = plt.subplots(2, len(idx), figsize=(1.3 * len(idx), 3.2), squeeze=False)
    for j in range(len(idx)):
        for row, (img, p, c) in enumerate(((x, p0, c0), (x_adv, p1, c1))):
            axes[row, j].imshow(img[j, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, j].set_title(f"{int(p[j])} ({c[j]:.0%})", fontsize=8)
            axes[row, j].axis("off")
    fig.suptitle(f"top: test digits; bottom: + targeted FGSM towards {config.target}, eps={config.figure_eps:g}", fontsize=9)
    fig.tight_layout()
    out["digits"] = folder / "targeted_digits.png"
    fig.savefig(out["digits"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.plot([r["eps"] for r in rows], [100 * r["success_rate"] for r in rows], "o-")
    ax.set_xlabel("eps")
    ax.set_ylabel(f"% classified as {config.target}")
    ax.set_ylim(0, 100)
    fig.tight_layout()
    out["success"] = folder / "success_vs_eps.png"
    fig.savefig(out["success"], dpi=100)
    plt.close(fig)
    return out
