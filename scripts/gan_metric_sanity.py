"""Do advkit's GAN metrics separate fidelity from diversity on real data? (advkit target)

For MNIST (and Fashion-MNIST when installed), on the domain classifier's features, k = 5, n images each:

* real floor: n held-out test images against n other test images (the reference). Naeem et al. (2020) derive
  density 1 and coverage 1 - 2^-k = 0.969 for two samples of one distribution of equal size;
* GAN training images: n images of the part `gan train` uses, against the same reference;
* a degenerate "generator": 10 training images, one per class, each repeated n / 10 times. Sharp, real and
  class-balanced, so IS cannot see the collapse; recall and coverage must (< 0.1, with precision high);
* IS of the held-out images sorted by class, with and without the fixed-seed shuffle (order must not matter).

    python scripts/gan_metric_sanity.py [--n 3000] [--data-source offline]
"""

from __future__ import annotations

import argparse

import torch

from advkit.data import load_dataset
from advkit.data.splits import gan_training_split, reference_and_heldout, take
from advkit.errors import AdvkitError
from advkit.gan.metrics.domain import features_and_probs, load_domain_classifier
from advkit.gan.metrics.inception_score import inception_score
from advkit.gan.metrics.report import gan_metric_report

COLUMNS = ("precision", "recall", "density", "coverage", "fid", "kid_mean", "kid_std", "is_mean")


def one_per_class(data, n: int) -> torch.Tensor:
    """The first image of each class, repeated to ``n`` images (a generator that memorised 10 samples)."""
    picks = torch.stack([torch.nonzero(data.labels == c)[0, 0] for c in range(10)])
    return data.images[picks].repeat(n // 10, 1, 1, 1)


def measure(dataset: str, data_source: str, n: int) -> list[str]:
    test = load_dataset(dataset, "test", data_source)
    train = load_dataset(dataset, "train", data_source)
    gan_part = take(train, gan_training_split(train), "GAN part")
    reference, heldout = reference_and_heldout(test, n, seed=0, reference_size=n)  # as `advkit eval gan` splits
    classifier = load_domain_classifier(dataset)
    ref_f, _ = features_and_probs(classifier, test.images[reference])
    held_f, held_p = features_and_probs(classifier, test.images[heldout])
    candidates = {"GAN training images (real)": gan_part.images[torch.randperm(len(gan_part), generator=torch.Generator()
                                                                               .manual_seed(2))[:n]],
                  "10 training images repeated": one_per_class(gan_part, n)}
    lines = [f"### {dataset} ({test.source}; reference and held-out: {n} test images each; k = 5)", "",
             "| images | " + " | ".join(COLUMNS) + " | IS / real |", "| --- |" + " ---: |" * (len(COLUMNS) + 1)]
    floor = None
    for name, images in candidates.items():
        fake_f, fake_p = features_and_probs(classifier, images)
        report = gan_metric_report(fake_f, ref_f, held_f, fake_p, held_p)
        if floor is None:
            floor = report["real_floor"]
            lines.append("| real held-out test images (the floor) | " + " | ".join(f"{floor[c]:.3g}" for c in COLUMNS)
                         + " | 1 |")
        lines.append(f"| {name} | " + " | ".join(f"{report['fake'][c]:.3g}" for c in COLUMNS)
                     + f" | {report['is_ratio']:.3f} |")
    sorted_probs = held_p[test.labels[heldout].argsort(stable=True)]
    lines += ["", f"IS of the held-out images sorted by class: {inception_score(sorted_probs)[0]:.3f} (shuffled with a "
              f"fixed seed, the default), {inception_score(sorted_probs, seed=None)[0]:.3f} (split in the given order); "
              f"in random order {inception_score(held_p)[0]:.3f}.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="images per set (reference, held-out, each candidate)")
    parser.add_argument("--data-source", default="offline", help="MNIST files: offline (5k subset) | full | auto")
    args = parser.parse_args()
    print("\n".join(measure("mnist", args.data_source, args.n)))
    try:
        print("\n".join(measure("fashion-mnist", "auto", args.n)))
    except AdvkitError as e:
        print(f"Fashion-MNIST skipped: {e.message}")


if __name__ == "__main__":
    main()
