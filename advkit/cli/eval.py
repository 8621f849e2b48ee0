"""``advkit eval``: evaluate trained models. ``eval gan``: FID / IS (domain offline, Inception with
torch-fidelity), the real-data floor, and mode coverage; ``eval domain-classifier`` trains the domain
metric's classifier.

    advkit eval gan --ckpt runs/gan-train-.../checkpoints/best.pt --n 5000
    advkit eval gan --ckpt C --inception-weights weights-inception-2015-12-05.pth   # needs torch-fidelity
    advkit eval domain-classifier --dataset mnist --install
"""

from __future__ import annotations

import click

from advkit.cli.common import compute_options, start_session
from advkit.errors import AdvkitError


@click.group("eval")
def command() -> None:
    """Evaluate trained models (GAN: FID, IS, mode coverage)."""


def _reference(dataset: str, data_source: str, image_size: int):
    """(reference images for FID: the test split, a disjoint real split for the floor), both in [0, 1] and
    resized to the generator's ``image_size`` as `gan train` resized its data (so resizing is no FID term)."""
    from advkit.data import load_dataset

    if dataset == "stacked-mnist":
        from advkit.data.stacked_mnist import stacked_mnist

        test = stacked_mnist(load_dataset("mnist", "test", data_source), n=10_000, seed=1, image_size=image_size)
        train = stacked_mnist(load_dataset("mnist", "train", data_source), n=10_000, seed=2, image_size=image_size)
        return test, train
    return (load_dataset(dataset, "test", data_source, image_size=image_size),
            load_dataset(dataset, "train", data_source, image_size=image_size))


@command.command("gan")
@click.option("--ckpt", required=True, type=click.Path(exists=True), help="A `gan train` checkpoint or run directory.")
@click.option("--n", "n", default=5000, show_default=True, type=click.IntRange(100, 200_000),
              help="Generated samples (the real-data floor uses as many real ones).")
@click.option("--inception-weights", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Inception weights file for real (paper-comparable) FID/IS via torch-fidelity.")
@compute_options
def gan(ckpt: str, n: int, inception_weights: str | None, **options) -> None:
    """FID and IS (domain, and Inception when available) beside the real-data floor, plus mode coverage."""
    import torch

    from advkit.cli.gan import _load_generator

    with start_session("eval-gan", options) as session:
        G, payload = _load_generator(ckpt, session.device)
        cfg = payload["config"]
        dataset, k = cfg.get("dataset", "mnist"), G.config.num_classes
        g = torch.Generator().manual_seed(int(options["seed"]))
        labels = (torch.arange(n) % k).to(session.device) if k else None
        chunks = []
        with torch.no_grad():
            for start in range(0, n, 1000):  # G.images: [0, 1] images, or the raw points of a toy ("linear") G
                m = min(1000, n - start)
                chunks.append(G.images(G.noise(m, g), None if labels is None else labels[start:start + m]).cpu())
        fake = torch.cat(chunks)
        results: dict = {"ckpt": str(ckpt), "step": payload["step"], "dataset": dataset, "n": n,
                         "generator": "G_ema" if "G_ema" in payload["models"] else "G"}
        if dataset == "ring":
            from advkit.data.toy import Ring
            from advkit.gan.metrics.modes import ring_modes

            ring = Ring()
            results["ring"] = ring_modes(fake, ring.centers, ring.std)
            session.echo(f"ring of 8: {results['ring']['modes']}/8 modes, "
                         f"{100 * results['ring']['high_quality']:.1f}% high-quality samples (within 3 std)")
        elif dataset in ("mnist", "fashion-mnist", "stacked-mnist"):
            results.update(_domain_report(session, dataset, cfg.get("data_source", "auto"), fake, labels, n))
        else:
            session.echo(f"no domain classifier for {dataset}: only Inception metrics apply (--inception-weights)")
        if inception_weights or dataset not in ("ring", "gaussian1d"):
            inception = _inception(fake, dataset, cfg.get("data_source", "auto"), inception_weights, session.device)
            if inception:
                results["inception"] = inception
                session.echo(f"Inception FID {inception['fid']:.2f}, IS {inception['is']:.2f} (torch-fidelity)")
        session.run.save_json("results.json", results)
        session.echo(f"results: {session.run.path / 'results.json'}")


def _domain_report(session, dataset: str, data_source: str, fake, labels, n: int) -> dict:
    import torch

    from advkit.gan.metrics.domain import DomainMetric, features_and_probs
    from advkit.gan.metrics.inception_score import inception_score

    test, train = _reference(dataset, data_source, fake.shape[-1])
    metric = DomainMetric.for_dataset(dataset, test.images, session.device)
    found = metric.evaluate(fake)
    # Two real splits: how low FID can go with this many samples (a random subset: files may be sorted by class).
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:n]
    floor = metric.fid(train.images[pick])
    out = {"domain": {**found, "real_floor_fid": floor, "real_floor_n": len(pick), "reference": test.source, "floor_split": train.source,
                      "note": "domain FID/IS use advkit's LeNet-style classifier, not Inception: compare only "
                              "with other domain numbers on the same data"}}
    line = f"domain FID {found['domain_fid']:.2f} (real-data floor {floor:.2f})"
    if "domain_is" in found:
        real_is = inception_score(features_and_probs(metric.classifier, test.images)[1])[0]
        out["domain"]["real_test_is"] = real_is
        line += (f", domain IS {found['domain_is']:.2f} (real test set {real_is:.2f}), classes covered "
                 f"{found['classes_covered']}/10, class KL to uniform {found['class_kl']:.3f}")
    else:
        line += f", Stacked MNIST modes {found['stacked_modes']}/1000, KL {found['stacked_kl']:.3f}"
    if labels is not None and "domain_is" in found:
        predicted = metric.predict(fake)
        out["domain"]["label_accuracy"] = float((predicted == labels.cpu()).float().mean())
        line += f", conditional samples classified as their label {100 * out['domain']['label_accuracy']:.1f}%"
    session.echo(line)
    return out


def _inception(fake, dataset: str, data_source: str, weights: str | None, device) -> dict | None:
    """Inception FID/IS with torch-fidelity (optional extra); None when it cannot run offline."""
    try:
        import torch_fidelity
    except ImportError:
        if weights:
            raise AdvkitError("--inception-weights needs torch-fidelity: pip install 'advkit[fidelity]'") from None
        return None
    if not weights:
        return None  # torch-fidelity would download Inception weights; offline we report the domain metrics only
    import torch

    class _Uint8(torch.utils.data.Dataset):
        def __init__(self, images):
            images = images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images
            self.images = (images.clamp(0, 1) * 255).round().to(torch.uint8)

        def __len__(self):
            return len(self.images)

        def __getitem__(self, i):
            return self.images[i]

    real, _ = _reference(dataset, data_source, fake.shape[-1])
    m = torch_fidelity.calculate_metrics(input1=_Uint8(fake), input2=_Uint8(real.images), isc=True, fid=True,
                                         feature_extractor_weights_path=weights, verbose=False,
                                         cuda=device.type == "cuda")  # torch-fidelity's default is CUDA
    return {"fid": float(m["frechet_inception_distance"]), "is": float(m["inception_score_mean"]),
            "is_std": float(m["inception_score_std"]), "weights": weights}


@command.command("domain-classifier")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), default="mnist", show_default=True)
@click.option("--epochs", default=12, show_default=True, type=click.IntRange(1, 200))
@click.option("--data-source", type=click.Choice(["auto", "offline", "full"]), default="auto", show_default=True)
@click.option("--install", is_flag=True, help="Also write the weights into advkit/assets/ (used by domain FID/IS).")
@compute_options
def domain_classifier(dataset: str, epochs: int, data_source: str, install: bool, **options) -> None:
    """Train the LeNet-style classifier behind domain FID/IS on the training split (never the test set)."""
    import shutil

    from advkit.data import load_dataset
    from advkit.gan.metrics.domain import asset_path, train_domain_classifier
    from advkit.runtime.checkpoint import save_checkpoint

    with start_session("eval-domain-classifier", options) as session:
        train, test = load_dataset(dataset, "train", data_source), load_dataset(dataset, "test", data_source)
        model, report = train_domain_classifier(train, test, epochs=epochs, seed=int(options["seed"]),
                                                device=session.device)
        path = session.run.checkpoints / f"domain-lenet-{dataset}.pt"
        save_checkpoint(path, step=epochs, config={"dataset": dataset, **report}, models={"classifier": model.cpu()})
        if install:
            shutil.copyfile(path, asset_path(dataset))
        session.run.save_json("results.json", report)
        session.echo(f"test accuracy {100 * report['test_accuracy']:.2f}% ({report['test']}); weights {path}"
                     + (f", installed as {asset_path(dataset)}" if install else ""))
