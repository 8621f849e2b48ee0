"""Benchmark: the shipped denoisers' CPU inference vs scikit-image non-local means and CBM3D, same images.

Per image (CBSD68 481x321 by default; 96x96.. any size works), with noise sigma 50, all methods timed
round-robin in one run (median of --repeats), then the ratios printed. Then a 4000x3000 photo (a real
CBSD68 image upscaled with PIL, bicubic) is denoised with overlap tiling in a child process, whose peak
RSS is reported: tiling keeps memory bounded by one tile's activations, not the photo's.

    OMP_NUM_THREADS=1 python bench/bench_denoise.py --images 1 --repeats 3 [--all-cores] [--models quality,fast]
Appends a table to bench/RESULTS.md. BM3D runs only when the optional `bm3d` package is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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


def big_child(width: int, height: int, tile: int) -> None:
    """Run in a fresh process: denoise one width x height photo tiled; print time and peak RSS as JSON."""
    from PIL import Image

    from advkit.denoise.inference import load_denoiser
    from advkit.denoise.tiling import exact_margin
    from advkit.data.images import list_images
    from advkit.denoise.noise import add_noise
    from advkit.denoise.tiling import tiled_apply

    photo = Image.open(list_images(SET)[0]).convert("RGB").resize((width, height), Image.BICUBIC)
    clean = torch.from_numpy(np.asarray(photo)).permute(2, 0, 1).float().div_(255)[None]
    del photo
    noisy = add_noise(clean, 50, seed=0)
    del clean
    G, _, _ = load_denoiser(None, torch.device("cpu"))
    start = time.perf_counter()
    out = tiled_apply(G, noisy, tile, exact_margin(G))
    seconds = time.perf_counter() - start
    assert out.shape == noisy.shape
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(),
                      "input_mb": noisy.numel() * 4 / 2 ** 20}))


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
    parser.add_argument("--big", default="4000x3000", help="size of the tiled photo (WxH; 0 = skip)")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--models", default="quality,fast", help="shipped models to time (comma list)")
    parser.add_argument("--all-cores", action="store_true",
                        help="also time advkit with every core (CBM3D cannot use more than one)")
    parser.add_argument("--child-big", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_big:
        big_child(*args.child_big)
        return
    if not SET.is_dir():
        sys.exit(f"{SET} is absent: run `advkit data fetch CBSD68`, or set ADVKIT_DATA to a folder holding denoise/CBSD68")

    from advkit.denoise.inference import SHIPPED_MODELS, load_denoiser
    from advkit.denoise.tiling import exact_margin
    from advkit.data.images import list_images
    from advkit.denoise.baselines import available_baselines
    from advkit.denoise.evaluate import model_method, noisy_pair, psnr_ssim
    from advkit.runtime.amp import cpu_has_native_bf16

    pairs = [noisy_pair(p, 50, 0) for p in list_images(SET)[: args.images]]
    size = f"{pairs[0][0].shape[1]}x{pairs[0][0].shape[0]}"
    baselines = available_baselines()
    methods, files, gmacs = {}, [], {}
    cores = os.cpu_count() or 1
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        if model not in SHIPPED_MODELS:
            sys.exit(f"--models: unknown model {model!r}; choose from {', '.join(SHIPPED_MODELS)}")
        G, ckpt, _ = load_denoiser(None, torch.device("cpu"), shipped=model)  # batch norm folded into the convs
        files.append(ckpt.name)
        name = f"advkit {model}"
        methods[name] = model_method(G, args.tile, exact_margin(G))
        with FlopCounterMode(display=False) as counter:  # the arithmetic behind the time (padding included)
            methods[name](pairs[0][1], 50)
        gmacs[name] = counter.get_total_flops() / 2e9
        if cpu_has_native_bf16():  # bf16 autocast is a speed-up only where the CPU computes bf16 natively
            methods[f"{name} --amp"] = model_method(G, args.tile, exact_margin(G), amp=True)
            name = f"{name} --amp"
        if args.all_cores and cores > torch.get_num_threads():
            # The whole CPU for each method: CBM3D (bm3d package) is single-threaded, so only advkit gains.
            methods[f"{name}, {cores} threads"] = with_threads(methods[name], cores)
    methods["nlm"] = baselines["nlm"]
    if "bm3d" in baselines:
        methods["bm3d"] = baselines["bm3d"]
    outputs: dict[str, list] = {}

    def run(name: str, method) -> None:
        outputs[name] = [method(noisy, 50) for _, noisy in pairs]

    fns = {name: (lambda n=name, m=m: run(n, m)) for name, m in methods.items()}
    seconds = interleaved(fns, repeats=args.repeats, warmup=1)
    bench = Bench("denoise (bench_denoise.py)",
                  data=f"CBSD68, first {args.images} image(s) of {size}, sigma 50, models {', '.join(files)} (batch norm "
                       f"folded), {torch.get_num_threads()} torch thread(s), CPU")
    for name, s in seconds.items():
        psnr = sum(psnr_ssim(clean, out)["psnr"] for (clean, _), out in zip(pairs, outputs[name])) / len(pairs)
        bench.row(f"{name}: seconds per {size} image", s / len(pairs), unit=" s", note=f"PSNR {psnr:.2f} dB")
    for name, gmac in gmacs.items():
        bench.row(f"{name}: multiply-accumulates per {size} image", gmac, unit=" G",
                  note="torch.utils.flop_counter, batch norm folded")
    for name in [m for m in seconds if m.startswith("advkit")]:
        bench.row(f"speed-up {name} vs scikit-image NLM", seconds["nlm"] / seconds[name], note="NLM fast mode, 5x5 patches")
        if "bm3d" in seconds:
            bench.row(f"speed-up {name} vs CBM3D (bm3d package)", seconds["bm3d"] / seconds[name], target=">= 100",
                      note="CBM3D on one thread (it uses no more)")
    if "bm3d" not in seconds:
        bench.row("speed-up advkit vs CBM3D", float("nan"), note="bm3d package not installed: not measured")
    if args.big != "0":
        width, height = map(int, args.big.lower().split("x"))
        child = subprocess.run([sys.executable, __file__, "--child-big", str(width), str(height), str(args.tile)],
                               capture_output=True, text=True, check=True)
        big = json.loads(child.stdout.strip().splitlines()[-1])
        bench.row(f"tiled {width}x{height} photo: seconds", big["seconds"], unit=" s", note=f"tile {args.tile}")
        bench.row(f"tiled {width}x{height} photo: peak RSS of the process", big["peak_rss_mb"], unit=" MB",
                  note=f"the float input alone is {big['input_mb']:.0f} MB")
    bench.finish()


if __name__ == "__main__":
    main()
