"""``advkit eval gan``: FID / IS beside the real-data floor, class coverage, ring and Stacked MNIST modes.

Domain metrics (advkit's LeNet-style classifier) always; Inception FID / IS through torch-fidelity when an
Inception weights file is given (nothing is downloaded). Samples come from the checkpoint's EMA generator when it
has one; a conditional G is asked for every class in turn.

    advkit eval gan --ckpt runs/gan-train-.../checkpoints/best.pt --n 5000
    advkit eval gan --ckpt C --inception-weights weights-inception-2015-12-05.pth   # needs torch-fidelity

    >>> from advkit.commands.eval_gan import EvalGANConfig, run
    >>> run(EvalGANConfig(ckpt="runs/gan1", n=5000))["domain"]["domain_fid"]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for

RUN_DIR = True


@dataclass
class EvalGANConfig(RunConfig):
    ckpt: str = field(default="", metadata={"help": "A `gan train` checkpoint or run directory.", "required": True,
                                            "exists": True})
    n: int = field(default=5000, metadata={"help": "Generated samples (the real-data floor uses as many real ones)."})
    inception_weights: str | None = field(default=None, metadata={
        "help": "Inception weights file for real (paper-comparable) FID/IS via torch-fidelity.", "exists": True})

    def __post_init__(self) -> None:
        if not 100 <= self.n <= 200_000:
            raise AdvkitError(f"--n must be in [100, 200000]; got {self.n}")


CONFIG = EvalGANConfig


def run(config: EvalGANConfig, session: Session | None = None, **session_options) -> dict:
    import torch

    from advkit.gan.sampling import cycled_labels, generate, load_generator

    with session_for("eval-gan", config, session, **session_options) as session:
        G, payload = load_generator(config.ckpt, session.device)
        trained = payload["config"]
        dataset, data_source, n = trained.get("dataset", "mnist"), trained.get("data_source", "auto"), config.n
        labels = cycled_labels(G, n)
        fake = generate(G, n, torch.Generator().manual_seed(config.seed), labels)
        results: dict = {"ckpt": str(config.ckpt), "step": payload["step"], "dataset": dataset, "n": n,
                         "generator": "G_ema" if "G_ema" in payload["models"] else "G"}
        if dataset == "ring":
            from advkit.data.toy import Ring
            from advkit.gan.metrics.modes import ring_modes

            ring = Ring()
            results["ring"] = ring_modes(fake, ring.centers, ring.std)
            session.echo(f"ring of 8: {results['ring']['modes']}/8 modes, "
                         f"{100 * results['ring']['high_quality']:.1f}% high-quality samples (within 3 std)")
        elif dataset in ("mnist", "fashion-mnist", "stacked-mnist"):
            results["domain"] = domain_report(session, dataset, data_source, fake, labels, n)
        else:
            session.echo(f"no domain classifier for {dataset}: only Inception metrics apply (--inception-weights)")
        if config.inception_weights:
            from advkit.gan.data import evaluation_reference
            from advkit.gan.metrics.inception import inception_metrics

            real, _ = evaluation_reference(dataset, data_source, fake.shape[-1])
            results["inception"] = inception_metrics(fake, real.images, config.inception_weights, session.device)
            session.echo(f"Inception FID {results['inception']['fid']:.2f}, IS {results['inception']['is']:.2f} "
                         "(torch-fidelity)")
        elif dataset not in ("ring", "gaussian1d"):
            session.echo("Inception FID/IS skipped: pass --inception-weights FILE (torch-fidelity's "
                         "weights-inception-2015-12-05 file; advkit never downloads it)")
        return results


def domain_report(session: Session, dataset: str, data_source: str, fake, labels, n: int) -> dict:
    """Domain FID / IS of ``fake`` against the test split, beside the floor: the same FID for as many real images
    of a disjoint split (a random subset: files may be sorted by class)."""
    import torch

    from advkit.gan.data import evaluation_reference
    from advkit.gan.metrics.domain import DomainMetric, features_and_probs
    from advkit.gan.metrics.inception_score import inception_score

    test, train = evaluation_reference(dataset, data_source, fake.shape[-1])
    metric = DomainMetric.for_dataset(dataset, test.images, session.device)
    found = metric.evaluate(fake)
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:n]
    floor = metric.fid(train.images[pick])
    out = {**found, "real_floor_fid": floor, "real_floor_n": len(pick), "reference": test.source,
           "floor_split": train.source, "note": "domain FID/IS use advkit's LeNet-style classifier, not Inception: "
                                                "compare only with other domain numbers on the same data"}
    line = f"domain FID {found['domain_fid']:.2f} (real-data floor {floor:.2f})"
    if "domain_is" in found:
        out["real_test_is"] = inception_score(features_and_probs(metric.classifier, test.images)[1])[0]
        line += (f", domain IS {found['domain_is']:.2f} (real test set {out['real_test_is']:.2f}), classes covered "
                 f"{found['classes_covered']}/10, class KL to uniform {found['class_kl']:.3f}")
    else:
        line += f", Stacked MNIST modes {found['stacked_modes']}/1000, KL {found['stacked_kl']:.3f}"
    if labels is not None and "domain_is" in found:
        out["label_accuracy"] = float((metric.predict(fake) == labels.cpu()).float().mean())
        line += f", conditional samples classified as their label {100 * out['label_accuracy']:.1f}%"
    session.echo(line)
    return out
