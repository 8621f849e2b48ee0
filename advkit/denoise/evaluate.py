"""Denoising evaluation: PSNR and SSIM per image and mean, for the model, the noisy input and the baselines.

Every method sees the *same* noisy image: the noise of image ``name`` is drawn with the fixed seed
``image_seed(seed, name)`` (see :mod:`advkit.denoise.noise`), so numbers repeat across runs and machines.
Metrics are scikit-image's with an explicit ``data_range=1.0`` (images in [0, 1] units, i.e. 255 on the
8-bit scale; estimates are clipped to [0, 1], the noisy input is scored as it is, unclipped by default):

    PSNR = 10 log10(1 / MSE)          (skimage.metrics.peak_signal_noise_ratio)
    SSIM = mean SSIM over the channels, 7x7 uniform window (skimage.metrics.structural_similarity)

A blind model (:mod:`advkit.denoise.blind`) is told the true sigma, or (``sigma_source="estimated"``) the
estimate of :func:`advkit.denoise.estimate.estimate_sigma` from the noisy image alone; ``self_ensemble``
averages the 8 flips/rotations (:mod:`advkit.denoise.ensemble`). :func:`evaluate_grid` runs several sigmas,
with and without clipping of the noisy input to [0, 1] (what an 8-bit file holds).

    >>> methods = {"advkit": model_method(G), **available_baselines()}
    >>> results = evaluate_folder(denoise_set("CBSD68"), methods, sigma=50)
    >>> results["mean"]["advkit"]["psnr"]
    >>> grid = evaluate_grid(denoise_set("Kodak24"), methods, sigmas=(15, 25, 50), clips=(False, True))
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from advkit.data.images import list_images, load_image
from advkit.denoise.ensemble import self_ensemble as ensemble_of
from advkit.denoise.noise import add_noise, image_seed
from advkit.denoise.tiling import exact_margin, tiled_apply
from advkit.errors import AdvkitError
from advkit.runtime.amp import inference_autocast, native_bf16
from advkit.runtime.modules import model_device
from advkit.values import takes_noise_level

Method = Callable[[np.ndarray, float], np.ndarray]  # (noisy [H, W, C] in [0, 1] units, sigma 0-255) -> estimate


def psnr_ssim(clean: np.ndarray, estimate: np.ndarray) -> dict[str, float]:
    """PSNR (dB) and SSIM of an ``[H, W, C]`` estimate against the clean image, both in [0, 1] units."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    clean64, est64 = clean.astype(np.float64), estimate.astype(np.float64)
    return {"psnr": float(peak_signal_noise_ratio(clean64, est64, data_range=1.0)),
            "ssim": float(structural_similarity(clean64, est64, data_range=1.0, channel_axis=-1))}


def model_method(model: nn.Module, tile: int = 512, margin: int | None = None, amp: bool = False,
                 self_ensemble: bool = False, sigma_source: str = "given") -> Method:
    """Wrap a denoiser network as a numpy method (tiled, so any image size fits in memory).

    ``margin`` None: the exact one (:func:`advkit.denoise.tiling.exact_margin`). ``amp``: bf16 autocast (a GPU
    or a CPU with native bf16, else float32 with a warning; :func:`advkit.runtime.amp.native_bf16`). ``self_ensemble``: mean
    over the 8 flips/rotations. ``sigma_source`` (blind models): "given" passes the true sigma, "estimated"
    the noisy image's estimate.
    """
    from advkit.denoise.estimate import estimate_sigma

    if sigma_source not in ("given", "estimated"):
        raise AdvkitError(f"sigma_source must be given or estimated; got {sigma_source!r}")
    device = model_device(model)
    amp = native_bf16(device, amp, "amp")  # float32 (one warning) where bf16 would be emulated
    margin = exact_margin(model) if margin is None else margin
    blind = takes_noise_level(model)

    @torch.no_grad()
    def denoise(noisy: np.ndarray, sigma: float) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(noisy.transpose(2, 0, 1)))[None].float()
        level = (estimate_sigma(noisy) if sigma_source == "estimated" else sigma) if blind else None
        run = lambda t: tiled_apply(model.eval(), t, tile, margin, sigma=level).float()  # noqa: E731
        with inference_autocast(device, amp):
            out = ensemble_of(run, x) if self_ensemble else run(x)
        return out[0].clamp(0, 1).permute(1, 2, 0).numpy()

    return denoise


def noisy_pair(path: Path, sigma: float, seed: int, mode: str = "iid", clip: bool = False,
               channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy) ``[H, W, C]`` float arrays for one image file (C = 3, or 1: read as grey), with that
    image's fixed noise."""
    clean = load_image(path, "L" if channels == 1 else "RGB")
    noisy = add_noise(clean, sigma, seed=image_seed(seed, path.name), mode=mode, clip=clip)
    return clean.permute(1, 2, 0).numpy(), noisy.permute(1, 2, 0).numpy()


def evaluate_folder(folder: str | Path, methods: dict[str, Method], sigma: float, seed: int = 0,
                    limit: int | None = None, mode: str = "iid", clip: bool = False,
                    progress: Callable[[Iterable], Iterable] = iter, channels: int = 3) -> dict:
    """Score every method on every image of ``folder``; returns per-image rows, means and seconds per image."""
    files = list_images(folder)[:limit]
    rows, seconds = [], {name: 0.0 for name in methods}
    for path in progress(files):
        clean, noisy = noisy_pair(path, sigma, seed, mode, clip, channels)
        row = {"image": path.name, "size": f"{clean.shape[1]}x{clean.shape[0]}", "noisy": psnr_ssim(clean, noisy)}
        for name, method in methods.items():
            start = time.perf_counter()
            estimate = method(noisy, sigma)
            seconds[name] += time.perf_counter() - start
            row[name] = psnr_ssim(clean, estimate)
        rows.append(row)
    names = ["noisy", *methods]
    mean = {name: {metric: float(np.mean([r[name][metric] for r in rows])) for metric in ("psnr", "ssim")}
            for name in names}
    return {"set": Path(folder).name, "images": len(rows), "sigma": sigma, "seed": seed, "noise_mode": mode,
            "clip": clip, "channels": channels, "methods": names, "rows": rows, "mean": mean,
            "seconds_per_image": {name: seconds[name] / max(1, len(rows)) for name in methods}}


def to_markdown(results: dict, per_image: bool = True) -> str:
    """The results as Markdown: the mean table, then (optionally) one row per image."""
    names = results["methods"]
    lines = [f"### {results['set']} ({results['images']} images), sigma {results['sigma']:g}, noise seed {results['seed']}",
             "", "| method | PSNR (dB) | SSIM | s / image |", "| --- | ---: | ---: | ---: |"]
    for name in names:
        m, s = results["mean"][name], results["seconds_per_image"].get(name)
        lines.append(f"| {name} | {m['psnr']:.2f} | {m['ssim']:.4f} | {'' if s is None else f'{s:.3f}'} |")
    if per_image:
        lines += ["", "| image | " + " | ".join(f"{n} PSNR / SSIM" for n in names) + " |",
                  "| --- |" + " ---: |" * len(names)]
        for row in results["rows"]:
            cells = " | ".join(f"{row[n]['psnr']:.2f} / {row[n]['ssim']:.3f}" for n in names)
            lines.append(f"| {row['image']} | {cells} |")
    return "\n".join(lines) + "\n"


def evaluate_grid(folder: str | Path, methods: dict[str, Method], sigmas: Iterable[float] = (15, 25, 50),
                  clips: Iterable[bool] = (False,), **kwargs) -> list[dict]:
    """:func:`evaluate_folder` at every (sigma, clip) pair, sigmas outer; ``kwargs`` go to it (seed, limit, ...)."""
    return [evaluate_folder(folder, methods, float(sigma), clip=clip, **kwargs) for sigma in sigmas for clip in clips]


def grid_to_markdown(grid: list[dict]) -> str:
    """One row per (set, sigma, clip): mean PSNR / SSIM of every method."""
    names = grid[0]["methods"]
    lines = ["| set | sigma | clipped | " + " | ".join(f"{n} PSNR / SSIM" for n in names) + " |",
             "| --- | ---: | --- |" + " ---: |" * len(names)]
    for r in grid:
        cells = " | ".join(f"{r['mean'][n]['psnr']:.2f} / {r['mean'][n]['ssim']:.4f}" for n in names)
        lines.append(f"| {r['set']} ({r['images']}) | {r['sigma']:g} | {'yes' if r['clip'] else 'no'} | {cells} |")
    return "\n".join(lines) + "\n"
