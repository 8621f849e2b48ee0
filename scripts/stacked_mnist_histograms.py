"""Where a Stacked MNIST generator's KL comes from: per-channel digit histograms and classifier confidence.

KL(mode histogram || uniform over 1,000) mixes two failures: missing or rare digit *combinations*, and a
skewed digit histogram in each channel. It splits exactly into the channels' KLs (their sum is the KL of the
product of the three histograms) plus the channels' dependence (:func:`stacked_mnist_modes`); the share of
digits the MNIST LeNet labels with a top probability under 0.9 shows how many samples are ambiguous (real
triples: about 3%).

    python scripts/stacked_mnist_histograms.py runs/<stacked-mnist run>/checkpoints/step-00020000.pt [--live-g]
    python scripts/stacked_mnist_histograms.py --real [--image-size 32]     # the training triples themselves
"""

from __future__ import annotations

import argparse

import torch

from advkit.gan.sampling import load_generator
from advkit.gan.metrics.domain import features_and_probs, load_domain_classifier
from advkit.gan.metrics.modes import class_histogram, stacked_mnist_modes
from advkit.models.registry import rebuild_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ckpt", nargs="?", help="a `gan train` checkpoint of a stacked-mnist run")
    parser.add_argument("--real", action="store_true", help="score the 25,600 training triples instead")
    parser.add_argument("--image-size", type=int, default=28, help="--real: resize the triples as gan train does")
    parser.add_argument("--n", type=int, default=26_000, help="samples (the paper's 26k)")
    parser.add_argument("--live-g", action="store_true", help="score the live G instead of the EMA sampler")
    args = parser.parse_args()
    if args.real == bool(args.ckpt):
        parser.error("pass a checkpoint or --real")
    if args.real:
        from advkit.data import load_dataset
        from advkit.data.stacked_mnist import stacked_mnist

        fake = stacked_mnist(load_dataset("mnist", "train", "offline"), image_size=args.image_size).images
        args.n, source = len(fake), f"real training triples at {args.image_size} px"
    else:
        G, payload = load_generator(args.ckpt, "cpu")
        if args.live_g:
            G = rebuild_models(payload, ["G"], "cpu")["G"].eval()
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            fake = torch.cat([G.images(G.noise(min(1000, args.n - s), generator), None) for s in range(0, args.n, 1000)])
        source = f"{args.ckpt} ({'live G' if args.live_g else 'sampler'})"
    classifier = load_domain_classifier("mnist", "cpu")
    probs = torch.stack([features_and_probs(classifier, fake[:, c:c + 1])[1] for c in range(3)], 1)  # [N, 3, 10]
    digits, confidence = probs.argmax(2), probs.max(2).values
    cover = stacked_mnist_modes(digits)  # the counter `gan train` and `eval gan` use
    print(f"{source}, {args.n} samples: {cover['modes']} modes, KL {cover['kl_to_uniform']:.3f} = channel imbalance "
          f"{sum(cover['kl_channels']):.3f} + dependence {cover['kl_dependence']:.3f}")
    for channel, name in enumerate("RGB"):
        share = class_histogram(digits[:, channel], 10) / len(digits)
        print(f"  {name}: digit shares {' '.join(f'{s:.3f}' for s in share.tolist())}  "
              f"KL {cover['kl_channels'][channel]:.3f}  "
              f"top probability < 0.9: {(confidence[:, channel] < 0.9).float().mean():.1%}")


if __name__ == "__main__":
    main()
