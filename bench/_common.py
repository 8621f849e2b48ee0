"""What every benchmark shares: side-by-side timing, peak memory, and appending a table to bench/RESULTS.md.

Benchmarks print *ratios measured in one run* (interleaved repeats, median), never a lone absolute time:
the machines are shared and noisy.

    from _common import Bench
    bench = Bench("attacks", data="offline MNIST test set, batch 256")
    t_fgsm = bench.time(lambda: fgsm(x, y))
    t_ref = bench.time(lambda: reference(x, y))
    bench.row("FGSM vs forward+backward", t_fgsm / t_ref, target="<= 1.1")
    bench.finish()
"""

from __future__ import annotations

import platform
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    import os

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} + {os.cpu_count()} CPU cores"
    return f"CPU only, {os.cpu_count()} cores ({platform.processor() or platform.machine()})"


def shown_path(spec: str) -> str:
    """A model or file spec as RESULTS.md may record it: relative to the working directory or the data root, else
    its last three path parts (never this machine's absolute path)."""
    from advkit.data.paths import portable

    shown = portable(spec)
    return ".../" + "/".join(Path(shown).parts[-3:]) if Path(shown).is_absolute() else shown


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_gpu_mb() -> float | None:
    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


def sync(device: torch.device | str | None = None) -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of each fn, measured round-robin so load spikes hit all of them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def endless(loader: Iterable) -> Iterator:
    """Batches of a DataLoader forever, a new epoch (reshuffled) each time one ends."""
    while True:
        yield from loader


def trainer_vs_reference(trainer, reference_step: Callable[[], object], steps: int, repeats: int) -> dict[str, float]:
    """Median seconds per chunk of ``steps`` iterations: the real ``trainer.train_step`` vs a reference step."""
    counter = {"step": 0}

    def ours() -> None:
        for _ in range(steps):
            trainer.train_step(counter["step"])
            counter["step"] += 1

    def reference() -> None:
        for _ in range(steps):
            reference_step()

    return interleaved({"advkit": ours, "reference": reference}, repeats=repeats)


class Bench:
    def __init__(self, name: str, data: str):
        self.name, self.data, self.rows = name, data, []

    def row(self, what: str, value: float, unit: str = "x", target: str = "", note: str = "") -> None:
        self.rows.append((what, f"{value:.3g}{unit}", target, note))
        print(f"{what:<55} {value:>9.3g}{unit:<4} {('target ' + target) if target else ''} {note}")

    def finish(self) -> None:
        import torchvision

        mem = f"peak RSS {peak_rss_mb():.0f} MB" + (f", peak GPU {peak_gpu_mb():.0f} MB" if peak_gpu_mb() else "")
        print(mem)
        lines = [f"\n## {self.name} — {date.today().isoformat()}", "",
                 f"Machine: {machine()}. torch {torch.__version__}, torchvision {torchvision.__version__}, "
                 f"python {sys.version.split()[0]}. Data: {self.data}. {mem}.", "",
                 "| measurement | value | target | note |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        with open(RESULTS, "a") as f:
            f.write("\n".join(lines) + "\n")


def timed(fn, device: torch.device):
    """(result, seconds): CPU seconds of this process on the CPU, where the machine is shared and the wall clock
    counts other programs' time too (one thread: OMP_NUM_THREADS=1); wall-clock seconds on a GPU."""
    sync()
    start, cpu_start = time.perf_counter(), time.process_time()
    out = fn()
    sync()
    return out, (time.process_time() - cpu_start) if device.type == "cpu" else (time.perf_counter() - start)


def add_victim_options(parser) -> None:
    """The options :func:`model_and_mnist_points` takes (--model, --n) and --device / --seed, for attack benches."""
    parser.add_argument("--model", default="default",
                        help="model spec of `advkit eval robustness --model` (default: the shipped MNIST CNN)")
    parser.add_argument("--n", type=int, default=200, help="the first N official MNIST test digits")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)


def model_and_mnist_points(model_spec: str, n: int, device: torch.device):
    """(model, test data, x, y): a model spec of `advkit eval robustness --model` and the first n official MNIST
    test digits, on ``device``; the victim and points every attack bench compares on."""
    from advkit.data import load_dataset
    from advkit.models.loader import load_model

    net = load_model(model_spec, device)
    test = load_dataset("mnist", "test").subset(n)
    return net, test, test.images.to(device), test.labels.to(device)
