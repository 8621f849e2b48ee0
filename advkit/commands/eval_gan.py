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
    """Every domain metric of ``fake`` beside the real floor: the same metric for as many held-out real test images.

    The test split is cut at random (files may be sorted by class) into a reference and a held-out part of
    min(n, half the split) images each. FID, KID, precision / recall / density / coverage (k=5) and IS are computed for
    the first that many samples and for the held-out part against the same reference; domain FID, IS and class or
    mode coverage are also given for all n samples."""
    from advkit.data.splits import reference_and_heldout
    from advkit.gan.data import evaluation_reference
    from advkit.gan.metrics.domain import DomainMetric, accuracy
    from advkit.gan.metrics.report import gan_metric_report

    test, _ = evaluation_reference(dataset, data_source, fake.shape[-1])
    n_floor = min(n, len(test) // 2)
    reference, heldout = reference_and_heldout(test, n_floor, seed=0, reference_size=n_floor)
    metric = DomainMetric.for_dataset(dataset, test.images[reference], session.device)
    found = metric.evaluate(fake)
    (f_fake, p_fake), (f_ref, _), (f_held, p_held) = (metric.features(x) for x in (
        fake[:n_floor], test.images[reference], test.images[heldout]))
    probs = (p_fake, p_held) if p_fake.dim() == 2 else (None, None)  # IS: not for Stacked MNIST's per-channel classes
    metrics = gan_metric_report(f_fake, f_ref, f_held, *probs, seed=session.seed)
    out = {**found, "real_floor_fid": metrics["real_floor"]["fid"], "real_floor_n": n_floor,
           "reference": f"{test.source}: {len(reference)} random images", "floor_split": "the other "
           f"{n_floor} images of the same split", "metrics": metrics,
           "note": "domain metrics use advkit's LeNet-style classifier (features 128-d), not Inception: compare only "
                   "with other domain numbers on the same data, and each figure with its real floor"}
    if not metric.stacked:
        out["classifier_test_accuracy"] = accuracy(metric.classifier, test.to(session.device))
        session.echo(f"domain classifier: {100 * out['classifier_test_accuracy']:.2f}% test accuracy "
                     "(trained on a part of the training split that no GAN trains on)")
    fake_m, floor_m = metrics["fake"], metrics["real_floor"]
    session.echo(f"{'metric':<12}{'generated':>12}{'real floor':>12}   (n = {n_floor}, k = {metrics['k']})")
    for name in ("fid", "kid_mean", "precision", "recall", "density", "coverage", "is_mean"):
        if name in fake_m:
            session.echo(f"{name:<12}{fake_m[name]:>12.4g}{floor_m[name]:>12.4g}")
    if "is_ratio" in metrics and metrics["is_ratio"] is not None:
        session.echo(f"IS ratio to the real floor: {metrics['is_ratio']:.3f}")
    line = f"domain FID {found['domain_fid']:.2f} on all {n} samples"
    if "domain_is" in found:
        out["real_test_is"] = floor_m.get("is_mean")
        line += (f", domain IS {found['domain_is']:.2f}, classes covered "
                 f"{found['classes_covered']}/10, class KL to uniform {found['class_kl']:.3f}")
    else:
        line += (f", Stacked MNIST modes {found['stacked_modes']}/1000, KL {found['stacked_kl']:.3f} "
                 f"(channel imbalance {found['stacked_kl_channels']:.3f} + dependence {found['stacked_kl_dependence']:.3f})")
    if labels is not None and "domain_is" in found:
        out["label_accuracy"] = float((metric.predict(fake) == labels.cpu()).float().mean())
        line += f", conditional samples classified as their label {100 * out['label_accuracy']:.1f}%"
    session.echo(line)
    return out
