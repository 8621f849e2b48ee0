"""``advkit linear``: why linear models have adversarial examples (Goodfellow et al. 2015, section 3).

    advkit linear                          # logistic-regression numbers, then break an MNIST softmax regression
    advkit linear --target 3 --eps 0.05,0.1,0.2,0.25

Part 1 is the 10-dimensional logistic-regression demo (x.w = -3, P = 0.0474; x + 0.5 sign(w): score 2,
P = 0.8808: the score moved by eps * ||w||_1 = 0.5 * 10; the numbers are Karpathy's CS231n illustration of the
paper's argument). Part 2 trains a softmax regression on the MNIST training split, draws its ten weight
templates, and pushes test digits of every other class to ``target`` with targeted FGSM (a step along the
difference of templates), reporting the success rate per eps.

    >>> from advkit.commands.linear import LinearConfig, run
    >>> run(LinearConfig(epochs=2, n=500))["softmax_regression"]["rows"][-1]["success_rate"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for
from advkit.values import parse_eps

RUN_DIR = True


@dataclass
class LinearConfig(RunConfig):
    target: int = field(default=3, metadata={"help": "Class every digit is pushed towards."})
    eps: tuple[float, ...] = field(default=(0.02, 0.05, 0.1, 0.15, 0.2, 0.25), metadata={
        "help": "L-inf budgets: a comma list, fractions allowed (8/255).", "parsed": True})
    figure_eps: float = field(default=0.15, metadata={"help": "eps of the before/after digit figure."})
    epochs: int = field(default=20, metadata={"help": "SGD epochs of the softmax regression."})
    n: int = field(default=10000, metadata={"help": "Test images attacked."})

    def __post_init__(self) -> None:
        self.eps = parse_eps(self.eps)
        if not 0 <= self.target <= 9:
            raise AdvkitError(f"--target must be a digit class 0-9; got {self.target}")
        if not 0 <= self.figure_eps <= 1 or self.epochs <= 0 or self.n <= 0:
            raise AdvkitError("--figure-eps must be in [0, 1]; --epochs and --n must be positive")


CONFIG = LinearConfig


def run(config: LinearConfig, session: Session | None = None, **session_options) -> dict:
    import torch

    from advkit.demos.linear import logistic_demo, target_success, train_softmax_regression
    from advkit.demos.linear_figures import linear_figures
    from advkit.attacks import predict
    from advkit.data import load_dataset

    with session_for("linear", config, session, **session_options) as session:
        demo = logistic_demo()
        session.echo("1. Logistic regression x = [2,-1,3,-2,2,2,1,-4,5,1], w = [-1,-1,1,-1,1,-1,1,1,-1,1]")
        session.echo(f"   x.w = {demo['score']:g}, P(y=1|x) = sigma(-3) = {demo['p']:.4f}")
        session.echo(f"   x + {demo['eps']:g}*sign(w) = {demo['x_adv']}: score {demo['score_adv']:g}, "
                     f"P(y=1) = {demo['p_adv']:.4f}")
        session.echo(f"   every coordinate moved by only {demo['eps']:g}, yet the score moved by eps*||w||_1 = "
                     f"{demo['eps']:g}*{demo['w_l1']:g} = {demo['score_shift']:g}: the shift grows linearly with the "
                     "dimension (784 for MNIST, 150528 for ImageNet) while the L-inf size of the change stays eps.")

        train, test = load_dataset("mnist", "train"), load_dataset("mnist", "test").subset(config.n)
        model = train_softmax_regression(train.images.to(session.device), train.labels.to(session.device),
                                         epochs=config.epochs, seed=config.seed)
        images, labels = test.images.to(session.device), test.labels.to(session.device)
        pred, _ = predict(model, images)
        clean_error = (pred != labels).float().mean().item()
        session.echo(f"2. Breaking a linear classifier: softmax regression trained on the {train.source} "
                     f"({config.epochs} epochs), test error {clean_error:.2%} on {len(test)} images of the {test.source}")
        rows = target_success(model, images, labels, config.target, list(config.eps))
        w = model.linear.weight.detach()
        others = [c for c in range(10) if c != config.target]
        mean_l1 = torch.stack([(w[config.target] - w[c]).abs().sum() for c in others]).mean().item()
        for r in rows:  # the largest shift of the logit gap an eps can buy: eps * ||w_t - w_y||_1
            r["mean_logit_shift_bound"] = r["eps"] * mean_l1
        figures = linear_figures(model, images, labels, rows, config.target, config.figure_eps, session.run.images)
        return {"logistic_demo": demo,
                "softmax_regression": {"train": train.source, "test": test.source, "n_test": len(test),
                                       "epochs": config.epochs, "clean_error": clean_error, "target": config.target,
                                       "rows": rows},
                "figures": {k: str(v) for k, v in figures.items()}}
