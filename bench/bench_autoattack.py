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

``--whole-command``: the issue-27 comparison. For each victim, the whole ``advkit eval robustness --attacks
autoattack`` command (a child process: start-up, loading, clean pass, the cascade, diagnostics, report; its CPU
time from ``getrusage(RUSAGE_CHILDREN)``) against torchattacks' four attacks at the paper's budget chained by its
AutoAttack (MultiAttack) in this process (attack time only), same points (the first N), one thread each; both
victims' ratios in one run, with the machine's load average before and after:
* the shipped MNIST CNN on the first N official MNIST test digits (``--eps``);
* a CIFAR-shaped ResNet-18 (bench/victims.py; width ``--resnet-width``, seed-0 weights) on N 32x32x3 crops of
  scikit-image's photos labelled with its own predictions (``--resnet-eps``, 0.1/255: about half of the points
  survive AutoAttack, so Square runs on points APGD cannot break).

    OMP_NUM_THREADS=1 python bench/bench_autoattack.py --whole-command --n 100 --eps 0.1 --resnet-n 16
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
    parser.add_argument("--eps", type=float, default=0.3)
    parser.add_argument("--budget", choices=("default", "paper", "both"), default="both")
    parser.add_argument("--whole-command", action="store_true", help="the whole advkit command vs torchattacks, "
                        "on the MNIST CNN and a CIFAR-shaped ResNet-18")
    parser.add_argument("--resnet-n", type=int, default=16)
    # 0.1/255: the batch-norm-calibrated random ResNet (bench/victims.py) is far more sensitive than a trained CIFAR
    # model; at this budget about half of its points survive AutoAttack, so Square runs on points APGD cannot break.
    parser.add_argument("--resnet-eps", type=float, default=0.1 / 255)
    parser.add_argument("--resnet-width", type=int, default=16)
    args = parser.parse_args()
    if args.whole_command:
        from whole_command import whole_command

        return whole_command(args)

    import torchattacks

    from advkit.attacks import AutoAttack

    device = torch.device(args.device)
    net, test, x, y = model_and_mnist_points(args.model, args.n, device)

    def accuracy(images: torch.Tensor) -> float:
        with torch.no_grad():
            return (net(images).argmax(1) == y).float().mean().item()

    bench = Bench("autoattack", data=f"{test.source}, first {args.n}, eps {args.eps} (L-inf), "
                                     f"model {'shipped MNIST CNN' if args.model == 'default' else shown_path(args.model)}, "
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
