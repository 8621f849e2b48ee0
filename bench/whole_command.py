"""``bench_autoattack.py --whole-command``: the whole ``advkit eval robustness --attacks autoattack`` command
against torchattacks' AutoAttack at the paper's budget, on the shipped MNIST CNN and a CIFAR-shaped ResNet-18
(see bench_autoattack.py's docstring)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from _common import Bench

ROOT = Path(__file__).resolve().parents[1]


def resnet_points(n: int, width: int, folder: Path) -> tuple[str, torch.Tensor, torch.Tensor]:
    """N 32x32x3 crops of scikit-image's photos (4x downsampled), labelled by the ResNet's own predictions."""
    from victims import photo_crops, resnet18_cifar

    x = photo_crops(n)  # stored as 8-bit images, as the command reads them
    with torch.no_grad():
        y = resnet18_cifar(width).eval()(x.float() / 255).argmax(1)
    path = folder / "resnet_points.pt"
    torch.save({"x": x, "y": y}, path)
    return str(path), x.float() / 255, y


def run_command(spec: str, data: str, n: int, eps: float, seed: int, out: Path, extra: list[str]) -> tuple[dict, float, float]:
    """(results.json, child CPU seconds, wall seconds) of one whole advkit command."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"}
    cmd = [sys.executable, "-m", "advkit.cli.main", "eval", "robustness", "--model", spec, "--data", data,
           "--n", str(n), "--subset", "first", "--eps", f"{eps!r}", "--attacks", "autoattack", "--threads", "1",
           "--device", "cpu", "--seed", str(seed), "--out", str(out), "--quiet", *extra]
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads((out / "results.json").read_text()), cpu, time.perf_counter() - start


def torchattacks_paper(net, x, y, eps: float, seed: int, steps: int) -> tuple[float, float]:
    """(robust accuracy, CPU seconds) of torchattacks' AutoAttack (standard) with APGD, APGD-T, FAB-T at ``steps``."""
    import torchattacks

    reference = torchattacks.AutoAttack(net, norm="Linf", eps=eps, version="standard", n_classes=10, seed=seed)
    for attack in reference._autoattack.attacks[:3]:  # APGD-CE, APGD-T, FAB-T
        attack.steps = steps
    start = time.process_time()
    x_adv = reference(x, y)
    seconds = time.process_time() - start
    with torch.no_grad():
        return (net(x_adv).argmax(1) == y).float().mean().item(), seconds


def whole_command(args) -> None:
    from advkit.models.loader import load_model
    from advkit.robustness.specs import load_data

    torch.set_num_threads(1)
    os.environ["BENCH_RESNET_WIDTH"] = str(args.resnet_width)
    load = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="bench-aa-"))
    bench = Bench("autoattack whole command", data=(
        f"MNIST CNN (shipped): first {args.n} official MNIST test digits, eps {args.eps:g}; ResNet-18 (CIFAR variant, "
        f"width {args.resnet_width}, seed-0 weights, batch-norm statistics of 256 photo crops): {args.resnet_n} 32x32x3 crops of scikit-image photos labelled "
        f"by the model, eps {args.resnet_eps:.4g}; L-inf, one thread, CPU time; load average before "
        f"{load[0]:.1f}/{load[1]:.1f}"))
    path, rx, ry = resnet_points(args.resnet_n, args.resnet_width, folder)
    victims = [("MNIST CNN", "default", "mnist", args.n, args.eps), ("ResNet-18 32x32x3", "victims:resnet18_cifar", path,
                                                                     args.resnet_n, args.resnet_eps)]
    for label, spec, data, n, eps in victims:
        net = load_model(spec, "cpu")
        x, y = (rx, ry) if spec.startswith("victims") else load_data(data, n, args.seed, "first")
        theirs, t_ref = torchattacks_paper(net, x, y, eps, args.seed, 100)
        results, t_ours, wall = run_command(spec, data, n, eps, args.seed, folder / label.split()[0], [])
        key = next(iter(results["robust_accuracy"]))
        ours = results["robust_accuracy"][key]["autoattack"]
        note = "torchattacks APGD, APGD-T, FAB-T 100 steps, Square 5000 queries"
        bench.row(f"{label}: clean accuracy", 100 * results["clean_accuracy"], unit=" %")
        bench.row(f"{label}: robust accuracy advkit command (AutoAttack standard)", 100 * ours, unit=" %")
        bench.row(f"{label}: robust accuracy torchattacks (paper budget)", 100 * theirs, unit=" %", note=note)
        bench.row(f"{label}: advkit - torchattacks", 100 * (ours - theirs), unit=" pt", target="within 0.5")
        bench.row(f"{label}: time advkit command / torchattacks", t_ours / t_ref, target="<= 1.0",
                  note=f"{t_ours:.1f} s vs {t_ref:.1f} s CPU (command wall {wall:.1f} s; advkit attack "
                       f"{results['seconds'].get('autoattack', float('nan')):.1f} s, batch {results.get('batch_size', '?')})")
    end = os.getloadavg()
    bench.row("load average after (1 / 5 min)", end[0], unit="", note=f"5 min {end[1]:.1f}; shared 2-core machine")
    bench.finish()
