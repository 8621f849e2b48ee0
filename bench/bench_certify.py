"""Benchmark: randomized smoothing's sampling (advkit.certify.smoothing.Smoothed.counts) against the model's own
batched inference on the same number of images.

Issue 28's target: sampling runs at >= 0.9x the model's batched inference throughput. Per repeat, interleaved:
``reference`` runs the model on ``--images`` images already in memory, in batches of ``--batch-size`` (inference
mode, argmax, nothing else); ``advkit`` draws the same number of noisy copies of one MNIST test image with
``Smoothed.counts`` (noise drawn per point in fixed blocks, added, classified, votes counted). Prints both images/s
and the ratio (median of the repeats); ``--denoiser`` measures denoised smoothing the same way, and the reference
then runs denoiser + classifier. Appends its rows to bench/RESULTS.md.

    OMP_NUM_THREADS=1 python bench/bench_certify.py                                  # the shipped MNIST CNN
    OMP_NUM_THREADS=1 python bench/bench_certify.py --model runs/gauss/checkpoints/final.pt --images 20000
    OMP_NUM_THREADS=1 python bench/bench_certify.py --denoiser blind-grey --images 2000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench, interleaved, shown_path  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="Classifier spec (as advkit certify --model).")
    parser.add_argument("--denoiser", default="", help="Denoiser spec (as advkit certify --denoiser).")
    parser.add_argument("--images", type=int, default=10000, help="Noisy images per measurement (Cohen's n).")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--sigma", type=float, default=0.25)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    from advkit.certify.smoothing import Smoothed
    from advkit.models.loader import load_model
    from advkit.robustness.specs import load_data

    model = load_model(args.model, device)
    if args.denoiser:
        from advkit.certify.denoised import denoised_classifier, load_front

        model = denoised_classifier(load_front(args.denoiser, args.sigma, device), model).eval()
    x, _ = load_data("mnist", 1, 0)
    point = x[0].to(device)
    batches = [torch.rand((min(args.batch_size, args.images - s), *point.shape), device=device)
               for s in range(0, args.images, args.batch_size)]
    smooth = Smoothed(model, args.sigma, args.batch_size, seed=0)

    @torch.inference_mode()
    def reference() -> None:
        for batch in batches:
            model(batch).argmax(1)

    def ours() -> None:
        smooth.counts(point, args.images, smooth.generator(0))

    seconds = interleaved({"reference": reference, "advkit": ours}, repeats=args.repeats)
    what = shown_path(args.model) + (f" + denoiser {shown_path(args.denoiser)}" if args.denoiser else "")
    bench = Bench("certify", data=f"one official MNIST test image x {args.images} noisy copies (sigma {args.sigma}), "
                                  f"batch {args.batch_size}, {what}, device {device}, {args.threads} thread(s)")
    bench.row("model inference (reference)", args.images / seconds["reference"], unit=" img/s")
    bench.row("smoothing: sampling + inference + votes", args.images / seconds["advkit"], unit=" img/s")
    bench.row("sampling throughput / model throughput", seconds["reference"] / seconds["advkit"], target=">= 0.9")
    bench.finish()


if __name__ == "__main__":
    main()
