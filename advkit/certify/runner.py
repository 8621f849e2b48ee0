"""What ``advkit certify`` runs: load the (denoised) classifier and the points, certify each point (sharded over
torchrun processes: rank r takes every world-size-th point; per-point noise seeds make the result the same for any
number of processes), optionally attack the smoothed classifier (SmoothAdv), and write the figure and report.

    >>> results = certify_run(config, session, mean=None, std=None)   # config: advkit.commands.certify.CertifyConfig
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from advkit.certify.bounds import ABSTAIN, max_radius
from advkit.certify.smoothing import Smoothed, certified_accuracy
from advkit.errors import AdvkitError
from advkit.runtime.atomic import atomic_file


def report_radii(samples: int, alpha: float, sigma: float, step: float) -> list[float]:
    """0, step, 2 step, ... up to the largest radius ``samples`` draws can certify."""
    top = max(max_radius(samples, alpha, sigma), 0.0)
    return [round(k * step, 10) for k in range(int(top / step + 1e-9) + 1)]


def gather(items: list, dist) -> list:
    """Every rank's list, concatenated on every rank (one process: the list itself)."""
    if dist is None or not dist.enabled:
        return items
    import torch.distributed as tdist

    out: list = [None] * dist.world_size
    tdist.all_gather_object(out, items)
    return [item for part in out for item in part]


class PointFiles:
    """One JSON file per certified point under ``folder/points`` (written atomically as each point finishes), so
    an interrupted run keeps what it certified and ``--resume RUN`` certifies only the rest (each point's noise
    depends on its index alone: the resumed results equal an uninterrupted run's). No folder: nothing is kept."""

    def __init__(self, folder: str | Path | None):
        self.root = Path(folder) / "points" if folder is not None else None
        self.loaded = 0  # points read back rather than certified in this run

    def load(self, index: int) -> dict | None:
        path = self.root / f"{index}.json" if self.root is not None else None
        if path is None or not path.is_file():
            return None
        self.loaded += 1
        return json.loads(path.read_text())

    def save(self, point: dict) -> None:
        if self.root is None:
            return
        with atomic_file(self.root / f"{point['index']}.json", "w") as f:
            json.dump(point, f)


def certify_points(smooth: Smoothed, x: torch.Tensor, y: torch.Tensor, indices: list[int], n0: int, n: int,
                   alpha: float, track=lambda it, total: it, store: PointFiles | None = None) -> list[dict]:
    """CERTIFY each point: one dict per point (index in the data set, label, prediction or -1, radius, correct);
    points already in ``store`` are read back, new ones written to it as they finish."""
    store = store or PointFiles(None)
    points = []
    for i in track(range(len(indices)), len(indices)):
        point = store.load(int(indices[i]))
        if point is not None and point["label"] != int(y[i]):
            raise AdvkitError(f"--resume: stored point {indices[i]} has label {point['label']}, the data gives "
                              f"{int(y[i])}; resume with the run's own --data and --subset (or start a new --out)")
        if point is None:
            prediction, radius, count = smooth.certify(x[i], indices[i], n0, n, alpha)
            label = int(y[i])
            point = {"index": int(indices[i]), "label": label, "prediction": prediction, "radius": radius,
                     "correct": prediction == label and prediction != ABSTAIN, "count": count}
            store.save(point)
        points.append(point)
    return points


def certify_run(config, session, mean=None, std=None) -> dict:
    """The whole command (see :mod:`advkit.commands.certify`); returns results.json's content."""
    from advkit.certify.report import write_report
    from advkit.data.paths import portable
    from advkit.models.loader import load_model
    from advkit.robustness.specs import check_pair, load_points

    model = load_model(config.model, session.device, mean, std)
    if config.denoiser:
        from advkit.certify.denoised import denoised_classifier, load_front

        model = denoised_classifier(load_front(config.denoiser, config.sigma, session.device), model).eval()
    x, y, indices = load_points(config.data, config.n or None, config.seed, config.subset)
    check_pair(model, x[:2], y[:2])
    indices = indices.tolist()  # each point's index in the data set: the seed of its noise
    rank, world = (session.dist.rank, session.dist.world_size) if session.dist is not None else (0, 1)
    mine = list(range(rank, len(indices), world))
    smooth = Smoothed(model, config.sigma, config.batch_size, config.seed)

    def track(iterable, total):
        return session.track(iterable, total=total, description="certify")

    began = time.perf_counter()
    store = PointFiles(session.run.path if session.run is not None else None)
    points = certify_points(smooth, x[mine], y[mine], [indices[k] for k in mine], config.n0, config.samples,
                            config.alpha, track, store)
    seconds = time.perf_counter() - began
    row = {index: k for k, index in enumerate(indices)}  # data-set index -> row of x (and order of the points)
    points = sorted(gather(points, session.dist), key=lambda p: row[p["index"]])
    radii = report_radii(config.samples, config.alpha, config.sigma, config.radius_step)
    accuracy = certified_accuracy(points, radii)
    images = (len(mine) - store.loaded) * (config.n0 + config.samples)  # this process's new points
    results = {"sigma": config.sigma, "n": len(points), "alpha": config.alpha, "points": points,
               "certified_accuracy": accuracy, "radii": radii, "certified_curve": list(accuracy.values()),
               "n0": config.n0, "samples": config.samples,
               "model": portable(config.model), "denoiser": portable(config.denoiser), "data": portable(config.data),
               "seed": config.seed,
               "abstained": sum(p["prediction"] == ABSTAIN for p in points) / max(len(points), 1),
               "max_certifiable_radius": max_radius(config.samples, config.alpha, config.sigma),
               "processes": world, "seconds": seconds, "resumed_points": gather([store.loaded], session.dist),
               "noisy_images_per_second": images / max(seconds, 1e-9)}
    if config.attack_n:
        from advkit.certify.attack import attack_points

        results["empirical"] = attack_points(smooth, x, y, points[:config.attack_n], radii, config, session, row)
    for r, acc in accuracy.items():
        session.echo(f"certified accuracy at radius {r}: {acc:.1%}")
    # rank 0 writes the report (every rank holds the same gathered results)
    png, md = write_report(results, session.run.path) if session.is_main else ("", "")
    return {**results, "figure": str(png), "report": str(md)}
