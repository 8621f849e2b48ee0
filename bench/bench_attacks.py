"""Benchmark: FGSM vs one forward+backward, and FGSM / PGD vs torchattacks (same model, batch, start).

FGSM is one forward and one backward pass plus an elementwise sign/add/clamp, so it should cost at most
~1.1x a bare forward+backward (gradient w.r.t. the input) of the same model and batch; its throughput should be
at least torchattacks' (which averages the loss and clones the batch, the same work otherwise).

    OMP_NUM_THREADS=1 python bench/bench_attacks.py --batch 256 --repeats 7 --device cpu
Prints ratios measured side by side in one run (interleaved repeats in both orders, median) and appends them to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench, interleaved  # noqa: E402


def timed(fns: dict, repeats: int) -> dict[str, float]:
    """Median seconds per call, measured round-robin in one order and then the reverse one, averaged: on this
    CPU the position in the round (cache and frequency state left by the previous call) shifts a time by ~5-10%."""
    forward = interleaved(fns, repeats=repeats)
    backward = interleaved(dict(reversed(list(fns.items()))), repeats=repeats)
    return {name: (forward[name] + backward[name]) / 2 for name in fns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--pgd-steps", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torchattacks

    from advkit.attacks import FGSM, PGD
    from advkit.data import load_dataset
    from advkit.models.classifiers import build_classifier

    device = torch.device(args.device)
    test = load_dataset("mnist", "test").subset(args.batch)
    x, y = test.images.to(device), test.labels.to(device)
    bench = Bench("attacks", data=f"{test.source}, batch {args.batch}, device {device}")
    for arch in ("cnn", "maxout"):
        torch.manual_seed(0)
        net = build_classifier(arch).to(device).eval()

        def forward_backward():
            xr = x.clone().requires_grad_(True)
            torch.autograd.grad(F.cross_entropy(net(xr), y, reduction="sum"), xr)

        ours_fgsm, ref_fgsm = FGSM(net, 0.1), torchattacks.FGSM(net, eps=0.1)
        ours_pgd = PGD(net, 0.1, step=0.01, steps=args.pgd_steps, random_start=False)
        ref_pgd = torchattacks.PGD(net, eps=0.1, alpha=0.01, steps=args.pgd_steps, random_start=False)
        t = timed({"fb": forward_backward, "fgsm": lambda: ours_fgsm(x, y), "ta_fgsm": lambda: ref_fgsm(x, y)},
                  repeats=args.repeats)
        tp = timed({"pgd": lambda: ours_pgd(x, y), "ta_pgd": lambda: ref_pgd(x, y)}, repeats=max(3, args.repeats // 2))
        bench.row(f"{arch}: FGSM time / one forward+backward", t["fgsm"] / t["fb"], target="<= 1.1")
        bench.row(f"{arch}: FGSM throughput advkit / torchattacks", t["ta_fgsm"] / t["fgsm"], target=">= 1")
        bench.row(f"{arch}: PGD-{args.pgd_steps} throughput advkit / torchattacks", tp["ta_pgd"] / tp["pgd"], target=">= 1")
        bench.row(f"{arch}: FGSM images/s (advkit)", args.batch / t["fgsm"], unit=" img/s")
    bench.finish()


if __name__ == "__main__":
    main()
