"""``advkit denoise train|eval|apply|export``: the denoising GAN, measured against classical denoisers.

    advkit denoise train --noise-std 50 --data ../shared/data/denoise/CBSD432 --val ../shared/data/denoise/CBSD68
    advkit denoise train --arch original --content-weight 0 --no-d-conditional --no-d-patch --noise-mode compat
    advkit denoise eval --ckpt runs/denoise-train-.../checkpoints/best.pt --set ../shared/data/denoise/CBSD68
    advkit denoise apply photo.jpg --out denoised/            # the model shipped in the package
    advkit denoise apply photo.jpg --out denoised/ --model fast --amp   # the small shipped model, bf16
    advkit denoise export --ckpt runs/denoise-train-... --out exported/   # G only, float16: a small file to ship
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from advkit.cli.common import compute_options, config_from, options_from, resume_option, run_trainer, start_session
from advkit.data.paths import assets_root
from advkit.errors import AdvkitError
from advkit.train.denoise import DenoiseConfig


# Inference precision, shared by eval and apply.
amp_option = click.option(
    "--amp/--no-amp", default=False, show_default=True,
    help="16-bit autocast (bf16; float16 on GPUs without bf16). On this project's CPU (AVX512-BF16) 2x faster for "
         "-0.01 dB on CBSD68 (docs/results/denoise.md); refused where bf16 is emulated.")


@click.group("denoise")
def command() -> None:
    """Denoising GAN: train, evaluate against classical denoisers (NLM, wavelet, TV, BM3D), apply."""


@command.command("train")
@options_from(DenoiseConfig)
@compute_options
@resume_option
def train(**options) -> None:
    """Train a denoiser: L1 content + adversarial loss (weights --content-weight / --adv-weight)."""
    from advkit.train.denoise import DenoiseTrainer

    config = config_from(DenoiseConfig, options)
    session = start_session("denoise-train", options)
    start = time.perf_counter()
    figures = run_trainer(DenoiseTrainer, config, session)
    session.run.save_json("results.json", {"steps": config.steps, "arch": config.arch, "noise_std": config.noise_std,
                                           "content_weight": config.content_weight, "adv_weight": config.adv_weight,
                                           "device": str(session.device), "wall_s": time.perf_counter() - start,
                                           **{k: float(v) for k, v in figures.items()}})
    if not session.quiet:
        best = f", val PSNR {figures['val_psnr']:.2f} dB" if "val_psnr" in figures else ""
        session.echo(f"run directory: {session.run.path}{best} (checkpoints/, images/, TensorBoard events)")


# The denoisers trained by advkit and shipped in the package (sigma 50, CBSD432 crops; docs/results/denoise.md).
SHIPPED_MODELS = {
    "quality": "denoiser-unet-s50.pt",    # U-Net width 32: CBSD68 28.02 dB, ahead of DnCNN
    "fast": "denoiser-unet16-s50.pt",     # U-Net width 16: a quarter of the arithmetic, for the CPU
}
DEFAULT_SHIPPED = "quality"

model_option = click.option(
    "--model", type=click.Choice(list(SHIPPED_MODELS)), default=None,
    help=f"Shipped model used when there is no --ckpt: quality (U-Net width 32) or fast (width 16, about 3x "
         f"faster on the CPU; docs/results/denoise.md).  [default: {DEFAULT_SHIPPED}]")


def shipped_checkpoint(model: str = DEFAULT_SHIPPED) -> Path:
    """The path of a shipped denoiser (``quality`` or ``fast``) in advkit/assets."""
    if model not in SHIPPED_MODELS:
        raise AdvkitError(f"--model must be one of {', '.join(SHIPPED_MODELS)}; got {model!r}")
    path = assets_root() / SHIPPED_MODELS[model]
    if not path.is_file():
        raise AdvkitError(f"the shipped {model} denoiser {path} is missing (reinstall advkit); or pass --ckpt from "
                          "`advkit denoise train`")
    return path


def load_denoiser(ckpt: str | None, device, fold: bool = True, shipped: str | None = None):
    """(G in eval mode, its checkpoint path, payload); ``ckpt`` None means the shipped model ``shipped``.

    ``fold`` folds batch norm into the convolutions (same outputs, ~20% faster); pass False to get the
    module whose state dict matches the checkpoint (e.g. to save it again).
    """
    import torch

    from advkit.models.fold import fold_batch_norm
    from advkit.runtime.checkpoint import load_checkpoint, rebuild_models

    if ckpt and shipped:
        raise AdvkitError(f"--model {shipped} picks a shipped model and --ckpt {ckpt} a file of your own: pass one")
    path = Path(ckpt) if ckpt else shipped_checkpoint(shipped or DEFAULT_SHIPPED)
    payload = load_checkpoint(path)
    spec = payload["models"].get("G")
    if spec is None or not spec["name"].startswith("denoise-"):
        raise AdvkitError(f"{path} holds no denoising generator ({', '.join(payload['models'])}); pass a "
                          "`denoise train` checkpoint")
    G = rebuild_models(payload, ["G"], "cpu")["G"].float().to(device).eval()
    if fold:
        G = fold_batch_norm(G)
    G = G.to(memory_format=torch.channels_last)  # NHWC: faster convolutions on CPU and GPU
    return G, path, payload


def _margin(G) -> int:
    from advkit.denoise.generator import receptive_field

    return receptive_field(G) // 2 + G.stride


@command.command("eval")
@click.option("--ckpt", type=click.Path(exists=True), default=None, help="Checkpoint (default: the shipped model).")
@click.option("--set", "sets", multiple=True, required=True, type=click.Path(exists=True, file_okay=False),
              help="Test image folder (repeatable), e.g. ../shared/data/denoise/CBSD68.")
@click.option("--noise-std", default=50.0, show_default=True, type=float, help="Noise std on the 0-255 scale.")
@click.option("--noise-mode", default="iid", show_default=True, type=click.Choice(["iid", "compat"]),
              help="iid, or the source's compat corruption.")
@click.option("--clip/--no-clip", default=False, show_default=True, help="Clamp noisy inputs to [0, 1].")
@click.option("--limit", default=None, type=click.IntRange(1), help="Only the first N images of each set.")
@click.option("--baselines", default="nlm,wavelet,tv,bm3d", show_default=True,
              help="Classical denoisers run on the same noisy images (comma list, or none); bm3d only when the "
                   "optional bm3d package is installed.")
@click.option("--tile", default=512, show_default=True, type=click.IntRange(8), help="Tile size for large images.")
@model_option
@amp_option
@compute_options
def evaluate(ckpt, sets, noise_std, noise_mode, clip, limit, baselines, tile, model, amp, **options) -> None:
    """PSNR / SSIM per image and mean: the model, the noisy input and classical baselines, same noise."""
    from rich.console import Console
    from rich.table import Table

    from advkit.denoise.baselines import BASELINES, available_baselines
    from advkit.denoise.evaluate import evaluate_folder, model_method, to_markdown
    from advkit.denoise.noise import check_sigma
    from advkit.runtime.amp import amp_dtype
    from advkit.runtime.progress import track

    check_sigma(noise_std)
    with start_session("denoise-eval", options) as session:
        G, path, payload = load_denoiser(ckpt, session.device, shipped=model)
        methods = {"advkit": model_method(G, tile, _margin(G), amp)}
        dtype = amp_dtype(session.device, amp, cpu=True)
        precision = f"{str(dtype).removeprefix('torch.')} autocast" if dtype else "float32"
        here = available_baselines()
        wanted = [b.strip() for b in baselines.split(",") if b.strip() and b.strip() != "none"]
        unknown = [b for b in wanted if b not in BASELINES]
        if unknown:
            raise AdvkitError(f"--baselines: unknown method {unknown[0]!r}; choose from {', '.join(BASELINES)} (or none)")
        methods.update({b: here[b] for b in wanted if b in here})
        seed = int(options["seed"])
        all_results, markdown = [], []
        for folder in sets:
            results = evaluate_folder(folder, methods, noise_std, seed, limit, noise_mode, clip,
                                      progress=lambda xs, f=folder: track(xs, len(xs), f"denoise eval {Path(f).name}",
                                                                                session.quiet))
            all_results.append(results)
            markdown.append(to_markdown(results))
            table = Table(title=f"{results['set']}: {results['images']} images, sigma {noise_std:g} "
                                f"(model {path.name}, step {payload['step']})")
            for col in ("method", "PSNR (dB)", "SSIM", "s / image"):
                table.add_column(col, justify="left" if col == "method" else "right")
            for name in results["methods"]:
                m, s = results["mean"][name], results["seconds_per_image"].get(name)
                table.add_row(name, f"{m['psnr']:.2f}", f"{m['ssim']:.4f}", "" if s is None else f"{s:.3f}")
            Console().print(table)
        header = (f"# advkit denoise eval\n\nmodel: {path} (step {payload['step']}); noise: {noise_mode}, sigma "
                  f"{noise_std:g}, clip {clip}, seed {seed}; device {session.device}, "
                  f"{precision}\n\n")
        (session.run.path / "results.md").write_text(header + "\n".join(markdown))
        session.run.save_json("results.json", {"ckpt": str(path), "step": payload["step"], "precision": precision,
                                               "sets": all_results})
        session.echo(f"results: {session.run.path / 'results.json'} and results.md")


@command.command("apply")
@click.argument("images", nargs=-1, required=True, type=click.Path())
@click.option("--ckpt", type=click.Path(exists=True), default=None, help="Checkpoint (default: the shipped model).")
@click.option("--add-noise", "add_noise_std", default=0.0, show_default=True, type=float,
              help="Demo: first add Gaussian noise of this std (0-255 scale) and save the noisy image too.")
@click.option("--tile", default=512, show_default=True, type=click.IntRange(8), help="Tile size for large images.")
@model_option
@amp_option
@compute_options
def apply(images, ckpt, add_noise_std, tile, model, amp, **options) -> None:
    """Denoise your own images into --out DIR (PNG, same size); no --ckpt: a model shipped with advkit (--model)."""
    import torch
    from torchvision.utils import save_image

    from advkit.data.images import load_image
    from advkit.denoise.noise import add_noise, check_sigma, image_seed
    from advkit.denoise.tiling import tiled_apply
    from advkit.runtime.amp import inference_autocast

    if add_noise_std:
        check_sigma(add_noise_std)
    out = Path(options.get("out") or "denoised")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / ".write-test").write_text("ok")
        (out / ".write-test").unlink()
    except OSError as e:
        raise AdvkitError(f"cannot write to --out {out} ({e.strerror}); pass a writable folder") from None
    session = start_session("denoise-apply", options, run_dir=False)
    G, path, _ = load_denoiser(ckpt, session.device, shipped=model)
    margin = _margin(G)
    inference_autocast(session.device, amp)  # an unsupported --amp is refused here, before any work
    inputs = [load_image(p, "RGB") for p in images]  # every file checked before any work
    for name, image in zip(images, inputs):
        stem = Path(name).stem
        x = image[None]
        if add_noise_std:
            x = add_noise(x, add_noise_std, seed=image_seed(int(options["seed"]), Path(name).name))
            save_image(x.clamp(0, 1), out / f"{stem}-noisy.png")
        with torch.no_grad(), inference_autocast(session.device, amp):
            y = tiled_apply(G, x, tile, margin).float().clamp(0, 1)
        target = out / f"{stem}-denoised.png"
        save_image(y, target)
        if not session.quiet:
            session.echo(f"{name} -> {target}")
    if not session.quiet:
        session.echo(f"{len(inputs)} image(s) denoised with {path.name}")


@command.command("export")
@click.option("--ckpt", required=True, type=click.Path(exists=True), help="A `denoise train` checkpoint or run directory.")
@click.option("--name", default="denoiser.pt", show_default=True, help="File name written into --out DIR.")
@click.option("--half/--no-half", default=True, show_default=True,
              help="Store the weights as float16 (half the size; loaded back as float32).")
@compute_options
def export(ckpt: str, name: str, half: bool, **options) -> None:
    """Write a small inference checkpoint into --out DIR: the generator alone (no D, no optimizer), same format."""
    import torch

    from advkit.runtime.checkpoint import save_checkpoint

    if Path(name).name != name or not name.endswith(".pt"):
        raise AdvkitError(f"--name must be a plain file name ending in .pt; got {name!r}")
    out = Path(options.get("out") or "exported")
    session = start_session("denoise-export", options, run_dir=False)
    G, path, payload = load_denoiser(ckpt, torch.device("cpu"), fold=False)
    spec = payload["models"]["G"]
    module = G.half() if half else G
    try:
        written = save_checkpoint(out / name, step=payload["step"], config=payload["config"],
                                  models={"G": (spec["name"], spec["args"], module)},
                                  extra={"exported_from": str(path), "dtype": "float16" if half else "float32"})
    except OSError as e:
        raise AdvkitError(f"cannot write to --out {out} ({e.strerror}); pass a writable folder") from None
    if not session.quiet:
        session.echo(f"{written}: {written.stat().st_size / 1e6:.1f} MB ({spec['name']}, step {payload['step']})")
