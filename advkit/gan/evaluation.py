"""What `gan train` measures every ``--sample-every`` steps, from the sampling generator.

* image data: sample diversity against the real data's (a collapse alarm below 0.5), and, where a domain
  classifier exists (MNIST, Fashion-MNIST, Stacked MNIST), domain FID / IS, class coverage and modes; for a
  conditional G, the share of samples classified as their requested label;
* the ring of 8 Gaussians: modes covered and the share of high-quality samples;
* the 1-D Gaussian: G's mean and std.

``measure`` returns (figures, score, warnings): the score ranks checkpoints (higher is better; None when the
data has no metric), the warnings are alarms for the trainer to log.

    >>> evaluation = TrainingEvaluation(config, data, reference, device)
    >>> figures, score, warnings = evaluation.measure(G)
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError
from advkit.gan.sampling import generate


def diversity(samples: torch.Tensor, n: int = 500) -> float:
    """Mean pairwise L2 distance of the first n samples (a collapsed generator scores ~0)."""
    flat = samples[:n].reshape(min(n, samples.shape[0]), -1).float()
    return float(torch.pdist(flat).mean()) if flat.shape[0] > 1 else 0.0


class TrainingEvaluation:
    def __init__(self, config, data, reference: torch.Tensor | None, device: torch.device):
        self.config, self.data, self.reference, self.device = config, data, reference, device
        self.notes: list[str] = []
        self._domain = None  # the DomainMetric, built on first use (False when the data has none)

    def domain_metric(self):
        if self._domain is None:
            from advkit.gan.metrics.domain import DOMAIN_DATASETS, DomainMetric

            base = "mnist" if self.config.dataset == "stacked-mnist" else self.config.dataset
            self._domain = False
            if base in DOMAIN_DATASETS and self.reference is not None:
                try:
                    self._domain = DomainMetric.for_dataset(self.config.dataset, self.reference[:5000], self.device)
                except AdvkitError as e:  # no shipped classifier: train on, without the domain metric
                    self.notes.append(f"no domain metric: {e.message}")
        return self._domain

    def measure(self, G) -> tuple[dict, float | None, list[str]]:
        c = self.config
        g = torch.Generator().manual_seed(12345)  # the same evaluation noise every time; training RNG untouched
        if c.dataset == "ring":
            from advkit.gan.metrics.modes import ring_modes

            ring = ring_modes(generate(G, c.eval_samples, g), self.data.centers, self.data.std)
            return {"modes": ring["modes"], "high_quality": ring["high_quality"]}, ring["modes"] + ring["high_quality"], []
        if c.dataset == "gaussian1d":
            fake = generate(G, c.eval_samples, g)
            return {"g_mean": float(fake.mean()), "g_std": float(fake.std())}, None, []
        metric = self.domain_metric()
        # A conditional G is asked for every class in turn, so its samples can be checked against their labels.
        labels = (torch.arange(c.eval_samples) % c.num_classes).to(self.device) if c.num_classes else None
        fake = generate(G, c.eval_samples, g, labels)
        figures = {"diversity": diversity(fake) / max(diversity(self.reference[:c.eval_samples]), 1e-12)}
        warnings = []
        if figures["diversity"] < 0.5:
            warnings.append(f"sample diversity fell to {figures['diversity']:.2f} of the data's: mode collapse")
        if not metric:
            return figures, None, warnings
        found = metric.evaluate(fake)
        found.pop("class_histogram", None)
        if labels is not None and "domain_is" in found:
            # CGAN check: the share of samples the domain classifier puts in their requested class.
            found["label_accuracy"] = float((metric.predict(fake) == labels.cpu()).float().mean())
        figures.update(found)
        return figures, -found["domain_fid"], warnings
