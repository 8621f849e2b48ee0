"""``advkit gan train|sample|interpolate|toy1d``: train GANs and look at what they learned.

    advkit gan train                                   # the source's MNIST GAN: mlp, ns loss, 10k iterations
    advkit gan train --arch dcgan --loss wgan-gp --dataset fashion-mnist --steps 5000
    advkit gan train --dataset ring --pack 4           # ring of 8 Gaussians with PacGAN packing
    advkit gan sample --ckpt runs/gan-train-.../checkpoints/best.pt --n 64 --label 3
    advkit gan interpolate --ckpt runs/gan-train-...
    advkit gan toy1d                                   # Goodfellow et al. 2014, figure 1, live
"""

from __future__ import annotations

import math

import click

from advkit.cli.common import compute_options, config_from, options_from, resume_option, run_trainer, start_session
from advkit.errors import AdvkitError
from advkit.gan.toy1d import Toy1DConfig
from advkit.train.gan import GANConfig


@click.group("gan")
def command() -> None:
    """Train GANs (GAN, DCGAN, WGAN, WGAN-GP, SN, CGAN, PacGAN), sample, interpolate, toy1d."""


@command.command("train")
@options_from(GANConfig)
@compute_options
@resume_option
def train(**options) -> None:
    """Train a GAN (Algorithm 1 of Goodfellow et al. 2014); defaults are the source's MNIST GAN."""
    from advkit.train.gan import GANTrainer

    config = config_from(GANConfig, options)
    session = start_session("gan-train", options)
    run_trainer(GANTrainer, config, session)
    best = session.run.checkpoints / "best.pt"
    session.echo(f"run directory: {session.run.path} (results.json, images/, checkpoints/"
                 f"{'best.pt: best by the domain metric' if best.exists() else ''})")


def _load_generator(ckpt: str, device):
    """The sampling generator of a checkpoint (its EMA copy when it has one, batch-norm statistics
    re-estimated for the averaged weights) and the checkpoint's config."""
    from advkit.gan.ema import recalibrate_batch_norm
    from advkit.runtime.checkpoint import load_checkpoint, rebuild_models

    payload = load_checkpoint(ckpt)
    role = "G_ema" if "G_ema" in payload["models"] else "G"
    if role not in payload["models"]:
        raise AdvkitError(f"{ckpt} holds no generator ({', '.join(payload['models'])}): pass a `gan train` checkpoint")
    G = rebuild_models(payload, [role], device)[role].eval()
    if not hasattr(G, "images"):  # e.g. a denoising GAN's G: same role name, not a sampler of z
        raise AdvkitError(f"{ckpt} holds a {payload['models'][role]['name']} model, not a GAN generator: "
                          "pass a `gan train` checkpoint")
    if role == "G_ema":
        recalibrate_batch_norm(G)  # same statistics the trainer sampled with (a no-op without batch norm)
    return G, payload


def _require_images(G) -> None:
    """Grids need an image generator; a toy-data G (ring, 1-D Gaussian) outputs points instead."""
    if len(getattr(G.config, "out_shape", [0, 0, 0])) != 3:
        raise AdvkitError("this checkpoint generates vectors (toy data), not images: see its run's images/")


def _labels(G, n: int, label: int | None, device):
    import torch

    k = G.config.num_classes
    if label is not None and not k:
        raise AdvkitError("--label needs a conditional generator (trained with --num-classes)")
    if label is not None and not 0 <= label < k:
        raise AdvkitError(f"--label must be in [0, {k - 1}]; got {label}")
    if not k:
        return None
    return (torch.full((n,), label) if label is not None else torch.arange(n) % k).to(device)


@command.command("sample")
@click.option("--ckpt", required=True, type=click.Path(exists=True), help="Checkpoint file or run directory.")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(1, 100_000), help="Number of samples.")
@click.option("--label", default=None, type=int, help="Class to draw (conditional generators only).")
@compute_options
def sample(ckpt: str, n: int, label: int | None, **options) -> None:
    """Draw N samples from a trained generator into a grid (images/samples.png)."""
    import torch
    from torchvision.utils import save_image

    with start_session("gan-sample", options) as session:
        G, payload = _load_generator(ckpt, session.device)
        _require_images(G)
        g = torch.Generator().manual_seed(int(options["seed"]))
        with torch.no_grad():
            images = G.images(G.noise(n, g), _labels(G, n, label, session.device)).cpu()
        path = session.run.images / "samples.png"
        save_image(images, path, nrow=max(1, int(math.sqrt(n))))
        session.run.save_json("results.json", {"ckpt": str(ckpt), "step": payload["step"], "n": n, "label": label,
                                               "grid": str(path)})
        session.echo(f"{n} samples from step {payload['step']} -> {path}")


@command.command("interpolate")
@click.option("--ckpt", required=True, type=click.Path(exists=True), help="Checkpoint file or run directory.")
@click.option("--rows", default=8, show_default=True, type=click.IntRange(1, 64), help="Latent walks (rows).")
@click.option("--steps", "n_steps", default=10, show_default=True, type=click.IntRange(2, 64),
              help="Points per walk (columns).")
@click.option("--label", default=None, type=int, help="Class for every row (conditional generators only).")
@compute_options
def interpolate(ckpt: str, rows: int, n_steps: int, label: int | None, **options) -> None:
    """A latent walk grid: each row moves linearly from one z to another (Radford et al. 2015, sec. 6.1)."""
    import torch
    from torchvision.utils import save_image

    with start_session("gan-interpolate", options) as session:
        G, payload = _load_generator(ckpt, session.device)
        _require_images(G)
        g = torch.Generator().manual_seed(int(options["seed"]))
        start, end = G.noise(rows, g), G.noise(rows, g)
        t = torch.linspace(0, 1, n_steps, device=start.device)[None, :, None]
        # z stays inside the cube [-1, 1]^d (convex), so every point is a valid uniform-noise input.
        z = (start[:, None] * (1 - t) + end[:, None] * t).reshape(rows * n_steps, -1)
        labels = _labels(G, rows, label, session.device)
        labels = labels.repeat_interleave(n_steps) if labels is not None else None
        with torch.no_grad():
            images = G.images(z, labels).cpu()
        path = session.run.images / "interpolation.png"
        save_image(images, path, nrow=n_steps)
        session.run.save_json("results.json", {"ckpt": str(ckpt), "step": payload["step"], "rows": rows,
                                               "steps": n_steps, "grid": str(path)})
        session.echo(f"{rows} latent walks of {n_steps} points -> {path}")


@command.command("toy1d")
@options_from(Toy1DConfig)
@compute_options
def toy1d(**options) -> None:
    """Goodfellow et al. 2014, figure 1, live: data density, G's density and D(x) over training (PNG + GIF)."""
    from advkit.gan.toy1d import run_toy1d

    config = config_from(Toy1DConfig, options)
    with start_session("gan-toy1d", options) as session:
        results = run_toy1d(config, session)
        session.run.save_json("results.json", results)
        session.echo(f"D(x) at the end: mean |D - 1/2| over the data's mass = {results['final']['d_gap']:.3f}; "
                     f"strip {results['strip']}, animation {results['gif']}")
