"""Benchmark: ``advkit eval defense`` on N MNIST test points with every attack that applies, per-attack time.

Issue 18's target: 1000 points, every attack, under 15 minutes on 2 CPU cores. For each ``--purifier`` this runs
:func:`advkit.defenses.evaluate.evaluate_defense` exactly as the command does (shipped MNIST CNN, eps 0.3, the
command's default budgets: PGD-20, AutoAttack with 20 iterations and 500 Square queries, 8 EOT draws) and prints,
per attack, the wall-clock and the process CPU seconds (the machine is shared: CPU seconds are what this process
used), the total, and the robust accuracy. Which attacks run depends on the purifier: white-box only through a
differentiable one (a denoiser), EOT only for a randomised one (Defense-GAN). The defaults are the two costliest
deterministic cases: 1-bit depth, where most points survive, so AutoAttack runs its whole cascade on them, and the
shipped denoiser, the one differentiable purifier (oblivious, white-box, BPDA, AutoAttack); add
``--purifier defense-gan:CKPT`` for EOT. An attack costs little once every point has fallen (later AutoAttack
stages only attack the survivors). With N below 1000 it also prints the linear extrapolation to 1000 points,
marked as such (every attack's cost is linear in the number of points).

    OMP_NUM_THREADS=1 python bench/bench_defense.py                        # 1000 points, bit-depth:1, denoiser:fast
    OMP_NUM_THREADS=1 python bench/bench_defense.py --n 200 --purifier jpeg:75
    OMP_NUM_THREADS=2 python bench/bench_defense.py --threads 2            # the issue's 2 cores
Appends its rows to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench  # noqa: E402

TARGET_SECONDS, TARGET_POINTS = 15 * 60, 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="MNIST test points (seeded draw, as the command).")
    parser.add_argument("--purifier", action="append",
                        help="Purifier spec(s) (repeatable); default bit-depth:1 and denoiser:fast.")
    parser.add_argument("--eps", type=float, default=0.3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gan-restarts", type=int, default=4)
    parser.add_argument("--gan-steps", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from advkit.commands.eval_defense import DefenseConfig
    from advkit.defenses.evaluate import evaluate_defense
    from advkit.defenses.specs import load_purifier
    from advkit.models.loader import load_model
    from advkit.robustness.specs import load_data

    defaults = DefenseConfig()
    classifier = load_model("default", "cpu")
    x, y = load_data("mnist", args.n, args.seed)
    bench = Bench("defense", data=f"official 10k MNIST test set, {args.n} points (seeded draw, seed {args.seed}), "
                                  f"eps {args.eps:g} (L-inf), shipped MNIST CNN, {args.threads} thread(s), "
                                  f"PGD-{defaults.pgd_steps}, AutoAttack {defaults.aa_iter} it / "
                                  f"{defaults.aa_queries} queries, EOT {defaults.eot_samples}")
    for spec in args.purifier or ["bit-depth:1", "denoiser:fast"]:
        purifier = load_purifier(spec, "cpu", args.seed, args.gan_restarts, args.gan_steps, defaults.gan_lr)
        marks: list[tuple[str, float]] = []

        def progress(label: str, done: int, total: int) -> None:
            marks.append((label, time.process_time()))

        start_wall, start_cpu = time.perf_counter(), time.process_time()
        results = evaluate_defense(classifier, purifier, x, y, args.eps, defaults.pgd_steps, defaults.restarts,
                                   defaults.eot_samples, defaults.aa_iter, defaults.aa_queries, defaults.batch_size,
                                   args.seed, True, progress=progress)
        total_wall, end_cpu = time.perf_counter() - start_wall, time.process_time()
        total_cpu = end_cpu - start_cpu
        ends = [t for _, t in marks[1:]] + [end_cpu]
        for (label, begin), end in zip(marks, ends):
            bench.row(f"{spec}: {label}", results["seconds"][label], " s", note=f"{end - begin:.1f} s CPU; "
                      f"accuracy {results['accuracy'][label]:.1%}")
        scale = TARGET_POINTS / args.n
        bench.row(f"{spec}: total ({', '.join(results['attacks'][1:])})", total_wall, " s",
                  target=f"< {TARGET_SECONDS} s for {TARGET_POINTS} points, 2 cores" if args.n == TARGET_POINTS else "",
                  note=f"{total_cpu:.1f} s CPU; worst case {results['accuracy']['worst_case']:.1%}")
        if args.n != TARGET_POINTS:
            bench.row(f"{spec}: total extrapolated to {TARGET_POINTS} points (x{scale:g}, not measured)",
                      total_cpu * scale, " s", target=f"< {TARGET_SECONDS} s, 2 cores",
                      note=f"linear in N, from {total_cpu:.1f} s CPU at {args.n} points, {args.threads} thread(s)")
    bench.finish()


if __name__ == "__main__":
    main()
