"""The Stacked MNIST counter's floor: modes and KL of *real* stacked triples, scored as `gan train` scores samples.

advkit's MNIST LeNet labels each channel; modes = distinct (R, G, B) digit triples; KL = KL(mode histogram ||
uniform over 1,000). Real triples show what a perfect generator would score with this counter and this many
samples (the issue's target: 1000 modes, KL <= 0.1).

    python scripts/stacked_mnist_floor.py
"""

from __future__ import annotations

from advkit.data import load_dataset
from advkit.data.stacked_mnist import stacked_mnist
from advkit.gan.metrics.domain import DomainMetric


def main() -> None:
    train = stacked_mnist(load_dataset("mnist", "train", "offline"))  # the 25,600 triples `gan train` uses
    metric = DomainMetric.for_dataset("stacked-mnist", train.images[:5000], "cpu")
    test = stacked_mnist(load_dataset("mnist", "test", "offline"), n=26_000, seed=1)
    for name, images in (("training triples (offline 5k subset)", train.images), ("test-set triples", test.images)):
        found = metric.evaluate(images)
        print(f"{name:<38} {len(images):>6} samples: {found['stacked_modes']} modes, KL {found['stacked_kl']:.3f}")


if __name__ == "__main__":
    main()
