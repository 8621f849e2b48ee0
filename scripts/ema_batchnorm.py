"""Why the EMA generator's batch-norm statistics are re-estimated (advkit/gan/ema.py), measured on a checkpoint.

Scores three samplers of one `advkit gan train --ema ...` checkpoint with the domain metric (advkit's MNIST
LeNet; 5,000 samples against 5,000 images of the official MNIST test set, evaluation only):

* G, the trained generator (eval mode, its own running statistics);
* G_ema with G's running statistics copied in (what an EMA that only averages weights samples with);
* G_ema with statistics re-estimated for its own weights (:func:`advkit.gan.ema.recalibrate_batch_norm`).

    python scripts/ema_batchnorm.py runs/<gan-train run>/checkpoints/step-00001500.pt
"""

from __future__ import annotations

import sys

import torch

from advkit.data import load_dataset
from advkit.gan.ema import recalibrate_batch_norm
from advkit.gan.metrics.domain import DomainMetric
from advkit.models.registry import rebuild_models
from advkit.runtime.checkpoint import load_checkpoint


def samples(G, n: int = 5000) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        return torch.cat([G.images(G.noise(500, g)) for _ in range(n // 500)])


def main(path: str) -> None:
    payload = load_checkpoint(path)
    if "G_ema" not in payload["models"]:
        sys.exit(f"{path} has no G_ema: train with --ema 0.999")
    models = rebuild_models(payload, ["G", "G_ema"], "cpu")
    G, G_ema = models["G"].eval(), models["G_ema"].eval()
    G_ema.load_state_dict({**G_ema.state_dict(), **{k: v for k, v in G.state_dict().items()
                                                    if "running" in k or "num_batches" in k}})
    metric = DomainMetric.for_dataset("mnist", load_dataset("mnist", "test", "offline").images[:5000], "cpu")
    rows = [("G", samples(G)), ("G_ema, G's statistics copied", samples(G_ema))]
    recalibrate_batch_norm(G_ema)
    rows.append(("G_ema, statistics re-estimated", samples(G_ema)))
    print(f"checkpoint {path} (step {payload['step']}); domain metric, 5,000 samples vs the MNIST test set")
    for name, images in rows:
        found = metric.evaluate(images)
        print(f"{name:<32} domain FID {found['domain_fid']:7.2f}  domain IS {found['domain_is']:.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
