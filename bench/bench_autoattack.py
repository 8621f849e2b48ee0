"""Benchmark: advkit's AutoAttack vs torchattacks.AutoAttack(norm='Linf', version='standard'), side by side.

On a model (``--model SPEC``, the specs of ``advkit eval robustness``: ``default`` is the shipped MNIST CNN,
advkit/assets/mnist-cnn.pt; or an advkit checkpoint, a TorchScript file, ``package.module:callable``) and the
first N vendored MNIST test digits, both attacks run in one process on the same points; it prints each robust
accuracy (and advkit's after every attack of its cascade), the points torchattacks breaks that advkit leaves
robust (0 when advkit is never weaker point by point), and the time ratio advkit / torchattacks (process CPU time
on the CPU, wall time on a GPU).

Two budgets, since torchattacks' AutoAttack leaves its APGD and APGD-T at their default 10 iterations where the
paper (and advkit) run 100:
* ``--budget default``: each library's own defaults (advkit: 100 iterations; torchattacks: 10);
* ``--budget paper``: torchattacks' APGD, APGD-T and FAB-T set to 100 iterations, as the paper.
Both run the standard set APGD-CE, APGD-T, FAB-T, Square (5000 queries).

    OMP_NUM_THREADS=1 python bench/bench_autoattack.py --n 200 --eps 0.3
    OMP_NUM_THREADS=1 python bench/bench_autoattack.py --n 64 --eps 0.1 --budget paper
    OMP_NUM_THREADS=1 python bench/bench_autoattack.py --model runs/advtrain-maxout/checkpoints/final.pt --eps 0.25
Appends its rows to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench, add_victim_options, model_and_mnist_points, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_victim_options(parser)
    parser.add_argument("--eps", type=float, default=0.3)
    parser.add_argument("--budget", choices=("default", "paper", "both"), default="both")
    args = parser.parse_args()

    import torchattacks

    from advkit.attacks import AutoAttack

    device = torch.device(args.device)
    net, test, x, y = model_and_mnist_points(args.model, args.n, device)

    def accuracy(images: torch.Tensor) -> float:
        with torch.no_grad():
            return (net(images).argmax(1) == y).float().mean().item()

    bench = Bench("autoattack", data=f"{test.source}, first {args.n}, eps {args.eps} (L-inf), "
                                     f"model {'shipped MNIST CNN' if args.model == 'default' else args.model}, "
                                     f"device {device}")
    bench.row("clean accuracy", 100 * accuracy(x), unit=" %")
    budgets = ("default", "paper") if args.budget == "both" else (args.budget,)
    report, t_ours = timed(lambda: AutoAttack(net, args.eps, seed=args.seed).evaluate(x, y), device)
    after = ", ".join(f"{k} {100 * v:.1f}" for k, v in report["robust_accuracy"].items())
    ours = 100 * report["robust_accuracy"][report["attacks_run"][-1]]
    for budget in budgets:
        reference = torchattacks.AutoAttack(net, norm="Linf", eps=args.eps, version="standard", n_classes=10,
                                            seed=args.seed)
        if budget == "paper":
            for attack in reference._autoattack.attacks[:3]:  # APGD-CE, APGD-T, FAB-T
                attack.steps = 100
        x_ref, t_ref = timed(lambda: reference(x, y), device)
        theirs = 100 * accuracy(x_ref)
        with torch.no_grad():
            only_theirs = int((report["robust"] & (net(x_ref).argmax(1) != y)).sum())
        note = f"torchattacks APGD, APGD-T, FAB-T steps {'100' if budget == 'paper' else '10'}"
        bench.row(f"robust accuracy advkit ({'+'.join(report['attacks_run'])})", ours, unit=" %", note=after)
        bench.row("robust accuracy torchattacks (apgd-ce+apgd-t+fab-t+square)", theirs, unit=" %", note=note)
        bench.row("robust accuracy advkit - torchattacks", ours - theirs, unit=" pt", target="<= +0.5 (never weaker)",
                  note=note)
        bench.row("points torchattacks breaks and advkit does not", only_theirs, unit="", target="0", note=note)
        bench.row("time advkit / torchattacks", t_ours / t_ref, target="<= 1.0",
                  note=f"{note}; {t_ours:.1f} s vs {t_ref:.1f} s ({'CPU' if device.type == 'cpu' else 'wall'} time)")
    bench.finish()


if __name__ == "__main__":
    main()
