"""Domain FID / IS: FID and Inception Score computed with a small LeNet-style classifier trained by advkit
on the same kind of data, because Inception weights cannot be downloaded here.

The numbers are *not* comparable with published Inception FID/IS and are always labelled "domain". They
rank models trained on the same data, and the real-data floor (domain FID between two disjoint real
splits) says how close to 0 a perfect generator could get with the samples used.

Classifier (LeCun et al. 1998 style): 28x28x1 -> conv5x5(16) ReLU maxpool -> conv5x5(32) ReLU maxpool
-> fc 128 ReLU (the *features* used for FID) -> fc 10 (softmax: the *probabilities* used for IS).
Inputs are [0, 1] images; 32 or 64 px inputs are resized to 28 px. Weights ship in
``advkit/assets/domain-lenet-<dataset>.pt``; ``advkit eval domain-classifier`` retrains them.

The classifier trains only on the *classifier part* of the training set (advkit.data.splits: ~20% of the
images, chosen by a keyed hash of their pixels), which no GAN trainer uses: features tuned to a GAN's own
training images would favour a generator that memorises them. To make up for the smaller set, each batch
is shifted by up to ``max_shift`` pixels at random (offline MNIST: 1051 images, 60 epochs, test accuracy
97.3%, against 97.8% for 12 epochs on all 5000 without shifts). The asset's checkpoint config records
the part it used.

    >>> metric = DomainMetric.for_dataset("mnist", device)
    >>> metric.evaluate(fake_images)     # {"domain_fid": ..., "domain_is": ..., "classes_covered": ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from advkit.data.paths import assets_root
from advkit.data.splits import CLASSIFIER_SHARE, SPLIT_SEED, classifier_split, take
from advkit.data.tensors import TensorData
from advkit.errors import AdvkitError
from advkit.gan.metrics.frechet import feature_statistics, frechet_distance
from advkit.gan.metrics.inception_score import inception_score
from advkit.gan.metrics.modes import class_coverage, stacked_mnist_modes
from advkit.models.registry import register_model

DOMAIN_DATASETS = ("mnist", "fashion-mnist")


@dataclass
class DomainClassifierConfig:
    num_classes: int = 10
    features: int = 128


@register_model("domain-lenet", DomainClassifierConfig)
class DomainClassifier(nn.Module):
    def __init__(self, config: DomainClassifierConfig):
        super().__init__()
        self.config = config
        self.conv = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),    # 28 -> 24 -> 12
                                  nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2))   # 12 -> 8 -> 4
        self.fc = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 4 * 4, config.features), nn.ReLU())
        self.out = nn.Linear(config.features, config.num_classes)

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """[B, 1, H, W] in [0, 1] -> [B, 1, 28, 28], centred as in training."""
        if images.shape[-1] != 28:
            images = F.interpolate(images, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
        return images.clamp(0, 1) - 0.5

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(self.prepare(images)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(images))


def asset_path(dataset: str) -> Path:
    return assets_root() / f"domain-lenet-{dataset}.pt"


def load_domain_classifier(dataset: str, device: torch.device | str = "cpu") -> DomainClassifier:
    from advkit.models.registry import rebuild_models
    from advkit.runtime.checkpoint import load_checkpoint

    path = asset_path(dataset)
    if not path.exists():
        raise AdvkitError(f"no domain classifier for {dataset!r} ({path} is missing); train one with "
                          f"`advkit eval domain-classifier --dataset {dataset} --install`")
    model = rebuild_models(load_checkpoint(path), ["classifier"], device)["classifier"]
    return model.eval()


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image ``[B, C, H, W]`` moved by its own whole-pixel offset in [-max_shift, max_shift]^2 (zeros fill in)."""
    n, _, h, w = images.shape
    offsets = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator).to(images)  # CPU draw: repeatable
    theta = torch.zeros(n, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2], theta[:, 1, 2] = -2 * offsets[:, 0] / w, -2 * offsets[:, 1] / h  # grid units: 2 / size per pixel
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def train_domain_classifier(train: TensorData, test: TensorData | None = None, epochs: int = 60,
                            batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
                            device: torch.device | str = "cpu", classifier_share: float | None = CLASSIFIER_SHARE,
                            max_shift: int = 2) -> tuple[DomainClassifier, dict]:
    """Train the classifier on the classifier part of ``train`` (never a test set, never the GAN part);
    report accuracy on ``test`` if given. ``classifier_share=None`` trains on all of ``train``."""
    if classifier_share is not None:  # the split's own fixed seed: --seed changes the training, not the split
        train = take(train, classifier_split(train, classifier_share, SPLIT_SEED), "domain-classifier part")
    torch.manual_seed(seed)
    model = DomainClassifier(DomainClassifierConfig(num_classes=train.num_classes)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data, g = train.to(device), torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        for x, y in data.batches(batch_size, shuffle=True, generator=g):
            if max_shift > 0:
                x = random_shift(x, max_shift, g)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    model.eval()
    report = {"train": train.source, "train_n": len(train), "classifier_share": classifier_share,
              "split_seed": SPLIT_SEED, "max_shift": max_shift, "epochs": epochs,
              "train_accuracy": accuracy(model, data)}
    if test is not None:
        report.update(test=test.source, test_accuracy=accuracy(model, test.to(device)))
    return model, report


@torch.no_grad()
def accuracy(model: DomainClassifier, data: TensorData, batch_size: int = 1000) -> float:
    model.eval()
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in data.batches(batch_size))
    return correct / len(data)


@torch.no_grad()
def features_and_probs(model: DomainClassifier, images: torch.Tensor, batch_size: int = 1000
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """(features [N, 128], class probabilities [N, K]) of single-channel [0, 1] images ``[N, 1, H, W]``."""
    device = next(model.parameters()).device
    feats, probs = [], []
    for chunk in images.split(batch_size):
        f = model.features(chunk.to(device).float())
        feats.append(f.cpu())
        probs.append(F.softmax(model.out(f), dim=1).cpu())
    return torch.cat(feats), torch.cat(probs)


class DomainMetric:
    """Domain FID / IS and class coverage against a fixed real reference set (statistics computed once)."""

    def __init__(self, classifier: DomainClassifier, real_images: torch.Tensor, dataset: str):
        self.classifier, self.dataset = classifier, dataset
        self.stacked = real_images.shape[1] == 3  # Stacked MNIST: classify each channel
        self.real_stats = feature_statistics(self._features(real_images)[0])

    @classmethod
    def for_dataset(cls, dataset: str, real_images: torch.Tensor, device: torch.device | str = "cpu") -> "DomainMetric":
        base = "mnist" if dataset == "stacked-mnist" else dataset
        if base not in DOMAIN_DATASETS:
            raise AdvkitError(f"domain FID/IS exist for {', '.join(DOMAIN_DATASETS)} (and stacked-mnist); not {dataset!r}. "
                              "For other data use Inception FID with torch-fidelity (--inception-weights)")
        return cls(load_domain_classifier(base, device), real_images, dataset)

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(features, class probabilities) of images (Stacked MNIST: the three digits' features side by side and
        probabilities per channel, [N, 3, 10])."""
        return self._features(images)

    def _features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.stacked:  # features of the three digits side by side; probabilities per channel
            parts = [features_and_probs(self.classifier, images[:, c:c + 1]) for c in range(3)]
            return torch.cat([f for f, _ in parts], 1), torch.stack([p for _, p in parts], 1)
        return features_and_probs(self.classifier, images)

    def fid(self, images: torch.Tensor) -> float:
        """Domain FID of ``images`` against the reference set (a disjoint real split gives the real-data floor)."""
        return frechet_distance(*self.real_stats, *feature_statistics(self._features(images)[0]))

    def evaluate(self, images: torch.Tensor) -> dict:
        """Domain FID, domain IS (mean/std over 10 splits) and class / Stacked-MNIST mode coverage."""
        feats, probs = self._features(images)
        out = {"domain_fid": frechet_distance(*self.real_stats, *feature_statistics(feats))}
        if self.stacked:
            cover = stacked_mnist_modes(probs.argmax(2))
            out.update(stacked_modes=cover["modes"], stacked_kl=cover["kl_to_uniform"],
                       stacked_kl_channels=sum(cover["kl_channels"]), stacked_kl_dependence=cover["kl_dependence"])
            return out
        out["domain_is"], out["domain_is_std"] = inception_score(probs, splits=10)
        cover = class_coverage(probs.argmax(1), probs.shape[1])
        out.update(classes_covered=cover["classes_covered"], class_kl=cover["kl_to_uniform"],
                   class_histogram=cover["histogram"])
        return out

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted class per image ([N]; [N, 3] for Stacked MNIST)."""
        return self._features(images)[1].argmax(-1)

