"""Benchmark: one epoch of FGSM adversarial training (Goodfellow et al. 2015) vs one epoch of plain training.

An adversarial step does a forward+backward for the FGSM example, then forward+backward on the clean and the
adversarial batch: about 3 passes where plain training does 1, so the expected ratio is ~2-3x. Fast FGSM-RS
training costs the same as FGSM training (the random start is free).

    OMP_NUM_THREADS=1 python bench/bench_advtrain.py --arch maxout --repeats 3
Both use advkit's ClassifierTrainer step on the MNIST training split (an epoch = len(train) / batch steps),
timed side by side (interleaved, median); appends the ratios to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench, interleaved  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="maxout")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from advkit.runtime.session import open_session
    from advkit.train.classifier import ClassifierTrainer
    from advkit.train.classifier_config import ClassifierConfig

    tmp = Path(tempfile.mkdtemp(prefix="bench-advtrain-"))
    trainers = {}
    for mode, overrides in {"plain": {"alpha": 1.0}, "fgsm": {"alpha": 0.5}, "fast": {"alpha": 0.5, "fast": True,
                                                                                      "overfit_check_every": 10**6}}.items():
        config = ClassifierConfig(arch=args.arch, batch_size=args.batch, eps=0.25, device=args.device, **overrides)
        session = open_session("bench-advtrain", config, out=tmp / mode, quiet=True)
        trainers[mode] = ClassifierTrainer(config, session)
    steps = len(trainers["plain"].train_data) // args.batch

    def epoch(trainer):
        return lambda: [trainer.train_step(s) for s in range(steps)]

    t = interleaved({mode: epoch(tr) for mode, tr in trainers.items()}, repeats=args.repeats)
    data = trainers["plain"].data_source.split(" / ")[0]
    bench = Bench("advtrain", data=f"{data}, {args.arch}, batch {args.batch}, {steps} steps per epoch, device {args.device}")
    bench.row(f"{args.arch}: FGSM adversarial epoch / plain epoch", t["fgsm"] / t["plain"], target="~2-3 (3 passes vs 1)")
    bench.row(f"{args.arch}: fast FGSM-RS epoch / plain epoch", t["fast"] / t["plain"], target="~2-3")
    bench.row(f"{args.arch}: plain epoch", t["plain"], unit=" s")
    for tr in trainers.values():
        tr.run.close()
    bench.finish()


if __name__ == "__main__":
    main()
