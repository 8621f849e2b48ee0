"""Benchmark: APGD-CE alone (100 iterations, one restart) vs PGD-100 with 5 random restarts, on the same points.

Croce & Hein 2020 (sec. 3) show APGD-CE, with no step size to tune, as strong as or stronger than PGD with a
tuned step and restarts. Target (issue 17): APGD-CE's robust accuracy within 0.5 points of PGD-100 x 5's, or
lower (stronger), on every model. ``advkit eval robustness --restarts`` sets the restarts of PGD and APGD alike,
so this script builds the two attacks itself, with the attack builder ``eval robustness`` uses
(:func:`advkit.robustness.evaluate.build_attack`: PGD step 2.5 eps / steps, Madry et al.; APGD's own schedule).

``--model SPEC`` takes the model specs of ``advkit eval robustness``; the points are the first N vendored MNIST
test digits (the points of bench/bench_autoattack.py). Per eps it prints both robust accuracies, their
difference, the points PGD breaks that APGD-CE leaves robust, and the CPU-time ratio APGD-CE / PGD.

    OMP_NUM_THREADS=1 python bench/bench_apgd_vs_pgd.py --model default --eps 0.1,0.3 --n 200
Appends its rows to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench, add_victim_options, model_and_mnist_points, shown_path, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_victim_options(parser)
    parser.add_argument("--eps", default="0.3", help="comma-separated L-inf budgets")
    parser.add_argument("--pgd-steps", type=int, default=100)
    parser.add_argument("--pgd-restarts", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    from advkit.attacks import predict
    from advkit.robustness.evaluate import build_attack

    device = torch.device(args.device)
    net, test, x, y = model_and_mnist_points(args.model, args.n, device)

    def robust(attack) -> torch.Tensor:
        """[N] bool: still classified correctly after the attack (so misclassified clean points count as broken)."""
        out = []
        for start in range(0, x.shape[0], args.batch_size):
            xb, yb = x[start:start + args.batch_size], y[start:start + args.batch_size]
            out.append(predict(net, attack(xb, yb))[0] == yb)
        return torch.cat(out)

    model_name = "shipped MNIST CNN" if args.model == "default" else shown_path(args.model)
    bench = Bench("apgd-vs-pgd", data=f"{test.source}, first {args.n} (L-inf), model {model_name}, device {device}")
    bench.row("clean accuracy", 100 * (predict(net, x)[0] == y).float().mean().item(), unit=" %")
    pgd_label = f"PGD-{args.pgd_steps} x {args.pgd_restarts} restarts"
    for eps in (float(e) for e in args.eps.split(",")):
        generator = torch.Generator().manual_seed(args.seed)
        pgd = build_attack("pgd", net, eps, "linf", generator, args.seed, pgd_steps=args.pgd_steps,
                           restarts=args.pgd_restarts)
        apgd = build_attack("apgd-ce", net, eps, "linf", generator, args.seed, restarts=1)
        robust_pgd, t_pgd = timed(lambda: robust(pgd), device)
        robust_apgd, t_apgd = timed(lambda: robust(apgd), device)
        acc_pgd, acc_apgd = (100 * r.float().mean().item() for r in (robust_pgd, robust_apgd))
        bench.row(f"eps {eps:g}: robust accuracy {pgd_label}", acc_pgd, unit=" %")
        bench.row(f"eps {eps:g}: robust accuracy APGD-CE (100 iterations, 1 restart)", acc_apgd, unit=" %",
                  note=f"APGD-CE {apgd.n_iter} iterations, {apgd.restarts} restart")
        bench.row(f"eps {eps:g}: APGD-CE - PGD", acc_apgd - acc_pgd, unit=" pt", target="<= +0.5")
        bench.row(f"eps {eps:g}: points PGD breaks and APGD-CE does not", int((robust_apgd & ~robust_pgd).sum()),
                  unit="")
        bench.row(f"eps {eps:g}: time APGD-CE / PGD", t_apgd / t_pgd,
                  note=f"{t_apgd:.1f} s vs {t_pgd:.1f} s ({'CPU' if device.type == 'cpu' else 'wall'} time)")
    bench.finish()


if __name__ == "__main__":
    main()
