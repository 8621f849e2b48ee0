"""Benchmark: the shipped denoisers' CPU inference vs CBM3D and scikit-image non-local means, same image.

One thread by default (the issue's terms: CBM3D, the ``bm3d`` package, uses no more). Per image (CBSD68
481x321 by default), noise sigma 50, every method is timed round-robin in one run (median of --repeats) and
reported as **seconds per megapixel**, then the ratios to CBM3D: the fast sigma-50 model (target >= 100x)
and the default model of ``denoise apply``, the blind one, told the true sigma and, as ``apply`` does by
default, the sigma it estimates from the noisy image (the estimator's time included). Without the ``bm3d``
package the ratios are to NLM only, and the table says so.

Then ``advkit denoise apply`` itself (defaults: the blind model, sigma estimated, tile 512) runs in a child
process on an 8-bit PNG of --big pixels (6000x4000 = 24 MP: a CBSD68 image upscaled with PIL, bicubic, plus
sigma-25 noise, saved as 8-bit PNG as a camera file would be); its time and peak RSS are reported (target
< 2 GB: tiling bounds the network's activations, and no whole-image float64 copy is made).

    OMP_NUM_THREADS=1 python bench/bench_denoise.py --images 1 --repeats 3 [--models fast,blind] [--all-cores]
Appends a table to bench/RESULTS.md. BM3D runs only when the optional `bm3d` package is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Bench, interleaved, peak_rss_mb  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _cbsd68():
    """CBSD68 from the data root (`advkit data fetch CBSD68`, or ADVKIT_DATA pointing at a copy)."""
    from advkit.data.paths import data_root

    return data_root() / "denoise" / "CBSD68"


SET = _cbsd68()


def big_photo(path: Path, width: int, height: int, sigma: float = 25.0) -> None:
    """An 8-bit RGB PNG of width x height: the first CBSD68 image upscaled (bicubic) plus Gaussian noise,
    clipped and rounded as a camera file is (built in bands of rows: little memory)."""
    from PIL import Image

    from advkit.data.images import list_images

    photo = np.asarray(Image.open(list_images(SET)[0]).convert("RGB").resize((width, height), Image.BICUBIC))
    rng, out = np.random.default_rng(0), np.empty_like(photo)
    for top in range(0, height, 256):
        band = photo[top:top + 256].astype(np.float32) + rng.normal(0, sigma, photo[top:top + 256].shape)
        out[top:top + 256] = np.clip(np.round(band), 0, 255).astype(np.uint8)
    Image.fromarray(out).save(path)


def apply_child(path: str, out: str, tile: int) -> None:
    """Run in a fresh process: ``advkit denoise apply PATH`` with its defaults; print time and peak RSS as JSON."""
    from advkit.commands.denoise_apply import DenoiseApplyConfig, run

    start = time.perf_counter()
    result = run(DenoiseApplyConfig(images=[path], out=out, tile=tile, device="cpu"), quiet=True)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss_mb": peak_rss_mb(),
                      "sigma": result["images"][0]["sigma"], "model": Path(result["model"]).name}))


def with_threads(method, threads: int):
    """``method`` run with ``threads`` intra-op threads (the previous setting restored after each call)."""
    def run(noisy, sigma):
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return method(noisy, sigma)
        finally:
            torch.set_num_threads(before)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1, help="CBSD68 images per timing round")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", default="6000x4000", help="size of the photo given to denoise apply (WxH; 0 = skip)")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--models", default="fast,blind",
                        help="shipped models to time (comma list; blind is denoise apply's default)")
    parser.add_argument("--all-cores", action="store_true",
                        help="also time advkit with every core (CBM3D cannot use more than one)")
    parser.add_argument("--child-apply", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_apply:
        apply_child(args.child_apply[0], args.child_apply[1], int(args.child_apply[2]))
        return
    if not SET.is_dir():
        sys.exit(f"{SET} is absent: run `advkit data fetch CBSD68`, or set ADVKIT_DATA to a folder holding denoise/CBSD68")

    from advkit.data.images import list_images
    from advkit.denoise.baselines import available_baselines
    from advkit.denoise.evaluate import model_method, noisy_pair, psnr_ssim
    from advkit.denoise.inference import SHIPPED_MODELS, load_denoiser
    from advkit.denoise.tiling import exact_margin
    from advkit.runtime.amp import cpu_has_native_bf16
    from advkit.values import takes_noise_level

    sigma = 50
    pairs = [noisy_pair(p, sigma, 0) for p in list_images(SET)[: args.images]]
    size = f"{pairs[0][0].shape[1]}x{pairs[0][0].shape[0]}"
    megapixels = pairs[0][0].shape[0] * pairs[0][0].shape[1] / 1e6
    baselines = available_baselines()
    methods, files, gmacs, targets = {}, [], {}, {}
    cores = os.cpu_count() or 1
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        if model not in SHIPPED_MODELS:
            sys.exit(f"--models: unknown model {model!r}; choose from {', '.join(SHIPPED_MODELS)}")
        G, ckpt, _ = load_denoiser(None, torch.device("cpu"), shipped=model)  # batch norm folded into the convs
        files.append(ckpt.name)
        blind = takes_noise_level(G)
        name = f"advkit {model}" + (" (true sigma)" if blind else "")
        variants = {name: {}}
        if blind:  # what `denoise apply` does by default: estimate sigma from the image, then denoise
            variants[f"advkit {model} (sigma estimated, as apply)"] = {"sigma_source": "estimated"}
        if cpu_has_native_bf16():  # bf16 autocast is a speed-up only where the CPU computes bf16 natively
            variants[f"{name} --amp"] = {"amp": True}
        for variant, options in variants.items():
            methods[variant] = model_method(G, args.tile, exact_margin(G), **options)
            targets[variant] = (">= 100" if model == "fast" else
                                "printed: denoise apply's default" if options.get("sigma_source") else "")
            if args.all_cores and cores > torch.get_num_threads():
                # The whole CPU for each method: CBM3D (bm3d package) is single-threaded, so only advkit gains.
                methods[f"{variant}, {cores} threads"] = with_threads(methods[variant], cores)
                targets[f"{variant}, {cores} threads"] = ""
        with FlopCounterMode(display=False) as counter:  # the arithmetic behind the time (padding included)
            methods[name](pairs[0][1], sigma)
        gmacs[name] = counter.get_total_flops() / 2e9
    methods["nlm"] = baselines["nlm"]
    reference = "bm3d" if "bm3d" in baselines else "nlm"
    if "bm3d" in baselines:
        methods["bm3d"] = baselines["bm3d"]
    outputs: dict[str, list] = {}

    def run(name: str, method) -> None:
        outputs[name] = [method(noisy, sigma) for _, noisy in pairs]

    fns = {name: (lambda n=name, m=m: run(n, m)) for name, m in methods.items()}
    seconds = interleaved(fns, repeats=args.repeats, warmup=1)
    bench = Bench("denoise (bench_denoise.py)",
                  data=f"CBSD68, first {args.images} image(s) of {size} ({megapixels:.3f} MP), sigma {sigma}, models "
                       f"{', '.join(files)} (batch norm folded), {torch.get_num_threads()} torch thread(s), CPU; "
                       + ("CBM3D: the bm3d package" if reference == "bm3d" else
                          "bm3d package NOT installed: ratios are to scikit-image NLM, not CBM3D"))
    per_mp = {name: s / len(pairs) / megapixels for name, s in seconds.items()}
    for name, s in per_mp.items():
        psnr = sum(psnr_ssim(clean, out)["psnr"] for (clean, _), out in zip(pairs, outputs[name])) / len(pairs)
        bench.row(f"{name}: seconds per megapixel", s, unit=" s", note=f"PSNR {psnr:.2f} dB")
    for name, gmac in gmacs.items():
        bench.row(f"{name}: multiply-accumulates per megapixel", gmac / megapixels, unit=" G",
                  note="torch.utils.flop_counter, batch norm folded")
    label = {"bm3d": "CBM3D (bm3d package, one thread: it uses no more)", "nlm": "scikit-image NLM (fast mode, 5x5)"}
    for name in [m for m in seconds if m.startswith("advkit")]:
        bench.row(f"speed-up {name} vs {label[reference]}", per_mp[reference] / per_mp[name],
                  target=targets.get(name, "") if reference == "bm3d" else "", note="same image, same noise")
    if reference == "bm3d" and "advkit fast" in per_mp:
        bench.row("speed-up advkit fast vs scikit-image NLM", per_mp["nlm"] / per_mp["advkit fast"],
                  note="NLM fast mode, 5x5 patches")
    if args.big != "0":
        width, height = map(int, args.big.lower().split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            photo = Path(tmp) / f"photo-{width}x{height}.png"
            big_photo(photo, width, height)
            child = subprocess.run([sys.executable, __file__, "--child-apply", str(photo), str(Path(tmp) / "out"),
                                    str(args.tile)], capture_output=True, text=True, check=True)
        big = json.loads(child.stdout.strip().splitlines()[-1])
        what = f"denoise apply, {width}x{height} 8-bit PNG ({width * height / 1e6:.1f} MP)"
        note = f"{big['model']}, sigma estimated {big['sigma']:.1f} (true 25), tile {args.tile}"
        bench.row(f"{what}: seconds", big["seconds"], unit=" s", note=note)
        bench.row(f"{what}: peak RSS of the process", big["peak_rss_mb"], unit=" MB", target="< 2048",
                  note=f"the float RGB image alone is {width * height * 3 * 4 / 2 ** 20:.0f} MB")
    bench.finish()


if __name__ == "__main__":
    main()
