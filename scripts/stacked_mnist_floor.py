"""The Stacked MNIST counter's floor: modes and KL of *real* stacked triples, scored as `gan train` scores samples.

advkit's MNIST LeNet labels each channel; modes = distinct (R, G, B) digit triples; KL = KL(mode histogram ||
uniform over 1,000). Real triples show what a perfect generator would score with this counter and this many
samples (the issue's target: 1000 modes, KL <= 0.1).

    python scripts/stacked_mnist_floor.py
"""

from __future__ import annotations

from advkit.gan.data import real_images
from advkit.gan.metrics.domain import DomainMetric


def main() -> None:
    # 28 px, the digits' own size, and 32 px, the size the stacked-mnist recipe trains at (the counter resizes back)
    for size in (None, 32):
        # the 25,600 triples `gan train --dataset stacked-mnist` uses: drawn from the images the classifier never saw
        train = real_images("stacked-mnist", "train", "offline", size, gan_part=True)
        metric = DomainMetric.for_dataset("stacked-mnist", train.images[:5000], "cpu")
        test = real_images("stacked-mnist", "test", "offline", size, stacked=(26_000, 1))
        for name, images in (("training triples (GAN part of the 5k subset)", train.images),
                             ("test-set triples", test.images)):
            found = metric.evaluate(images)
            print(f"{size or 28} px, {name:<46} {len(images):>6} samples: {found['stacked_modes']} modes, "
                  f"KL {found['stacked_kl']:.3f} (channel imbalance {found['stacked_kl_channels']:.3f} "
                  f"+ dependence {found['stacked_kl_dependence']:.3f})")


if __name__ == "__main__":
    main()
