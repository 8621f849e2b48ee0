"""The points of an evaluation in blocks: each point seeded by itself, split over processes, stored as they finish.

An evaluation attacks the points the model classifies correctly, in their order, in blocks of ``batch_size``
consecutive points. Every point draws its random numbers (random starts, Square's windows and signs) from streams
of its own, seeded with :func:`point_seeds` ``(seed, eps, attack, the point's index in the data)``
(:class:`advkit.attacks.randomness.PointDraws`): a hash of the point, never of its block, of which process runs it
or when. So:

* a point's result does not depend on the batch size or on the other points of its batch (up to the last bits of
  a batched forward pass, which do not move a decision in practice; tested at three batch sizes);
* under ``torchrun --nproc-per-node N`` block ``b`` runs on rank ``b % N``, and the per-point results gathered on
  every rank equal one process's (the same blocks, the same draws, the same batch shapes);
* with a run directory, each block's per-point result is written there as soon as it is finished
  (``points/<eps>/<attack>/block-<b>.pt``, atomically: temporary file, fsync, rename), and ``--resume RUN``
  loads what is there and attacks only the rest: the final results equal an uninterrupted run's, whether the
  run died by Ctrl-C, SIGTERM or SIGKILL.

A block's result is a ``[points]`` tensor: bool survived for most attacks, float32 perturbation norms (inf: not
fooled) for the minimum-norm ones. ``plan.json`` pins what the stored blocks mean (the points, their labels'
checksum, batch size, seed, eps, attacks); a resume with another plan is refused, except that a plan whose batch
size was halved after running out of memory replaces the old one (its blocks are no longer valid).

    >>> runner = BlockRunner(store=PointStore(run_dir), dist=session.dist, batch_size=500, seed=0)
    >>> survived = runner.run("0.1", "autoattack", points, xc, yc, lambda xb, yb, seeds: attack_block(xb, yb, seeds))
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import torch

from advkit.attacks.randomness import point_seed
from advkit.errors import AdvkitError
from advkit.runtime.atomic import atomic_file


def point_seeds(seed: int, eps_key: str, attack: str, points: list[int]) -> list[int]:
    """One 63-bit seed per point, depending on (seed, eps, attack, the point's index in the data) only."""
    return [point_seed(seed, eps_key, attack, point) for point in points]


class PointStore:
    """Per-block results under ``folder/points`` (no folder: kept nowhere, for library calls without a run)."""

    def __init__(self, folder: str | Path | None, writer: bool = True):
        self.root = Path(folder) / "points" if folder is not None else None
        self.writer = writer

    def path(self, eps_key: str, attack: str, block: int) -> Path:
        return self.root / eps_key / attack / f"block-{block:05d}.pt"

    def load(self, eps_key: str, attack: str, block: int) -> torch.Tensor | None:
        if self.root is None or not self.path(eps_key, attack, block).is_file():
            return None
        return torch.load(self.path(eps_key, attack, block), map_location="cpu", weights_only=True)

    def save(self, eps_key: str, attack: str, block: int, value: torch.Tensor) -> None:
        if self.root is None:
            return
        with atomic_file(self.path(eps_key, attack, block)) as f:  # the block file is whole or absent
            torch.save(value.cpu(), f)

    def pin(self, plan: dict) -> None:
        """Record the plan, or check it against the stored one (a halved batch size replaces it)."""
        if self.root is None:
            return
        stored_path = self.root / "plan.json"
        if stored_path.is_file():
            stored = json.loads(stored_path.read_text())
            if stored != plan:
                differs = sorted(k for k in set(stored) | set(plan) if stored.get(k) != plan.get(k))
                if differs != ["batch_size"] or plan["batch_size"] >= stored["batch_size"]:
                    raise AdvkitError(f"--resume: this run's {', '.join(differs)} differ from the stored run's; "
                                      "resume with the same options (or start a new --out)")
                if self.writer:
                    import shutil

                    shutil.rmtree(self.root)  # blocks of another size: not reusable
        if self.writer:
            self.root.mkdir(parents=True, exist_ok=True)
            stored_path.write_text(json.dumps(plan))


class BlockRunner:
    """Runs an attack block by block: this rank's blocks, stored ones skipped, results gathered on every rank.

    ``track(iterable, total, description)`` (a progress bar with rate and ETA, advkit.runtime.progress.track) runs
    this rank's blocks left to attack; ``progress(label, done, total, rate, eta)`` is called after every block
    (points done of this attack, points per second over all ranks, seconds left)."""

    def __init__(self, store: PointStore, dist=None, batch_size: int = 500, seed: int = 0,
                 progress: Callable[..., None] | None = None, track: Callable | None = None):
        self.store, self.dist, self.batch_size, self.seed = store, dist, batch_size, seed
        self.progress, self.track = progress, track
        self.rank = dist.rank if dist is not None and dist.enabled else 0
        self.world = dist.world_size if dist is not None and dist.enabled else 1

    def blocks(self, n: int) -> list[range]:
        return [range(s, min(s + self.batch_size, n)) for s in range(0, n, self.batch_size)]

    def run(self, eps_key: str, attack: str, points: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
            block_fn: Callable[[torch.Tensor, torch.Tensor, list[int]], torch.Tensor]) -> torch.Tensor:
        """The per-point result of ``block_fn(x_block, y_block, seeds)`` over all points, in order (``seeds``: one
        per point of the block, :func:`point_seeds`). ``points``: each point's index in the data."""
        blocks = self.blocks(x.shape[0])
        total = x.shape[0]
        done: dict[int, torch.Tensor] = {}
        for b in range(len(blocks)):
            stored = self.store.load(eps_key, attack, b)
            if stored is not None and stored.shape[0] == len(blocks[b]):
                done[b] = stored
        mine = [b for b in range(len(blocks)) if b % self.world == self.rank and b not in done]
        began, attacked = time.perf_counter(), 0
        finished = sum(len(blocks[b]) for b in done)
        label = f"eps={eps_key} {attack}" if eps_key != "any" else attack
        stored = f" ({len(done)} of {len(blocks)} blocks stored)" if done else ""
        for b in self.track(mine, len(mine), label + stored) if self.track is not None and mine else mine:
            index = torch.tensor(list(blocks[b]))
            seeds = point_seeds(self.seed, eps_key, attack, points[index].tolist())
            value = block_fn(x[index], y[index], seeds).cpu()
            self.store.save(eps_key, attack, b, value)
            done[b] = value
            attacked += len(blocks[b])
            finished += len(blocks[b]) * self.world  # the other ranks advance alike
            if self.progress is not None:
                rate = attacked / max(time.perf_counter() - began, 1e-9)
                left = max(total - min(finished, total), 0)
                self.progress(label, min(finished, total), total, rate * self.world, left / (rate * self.world))
        done = self.gather(done)
        if len(done) != len(blocks):
            raise AdvkitError(f"{len(blocks) - len(done)} blocks of {attack} at eps={eps_key} are missing after "
                              "the gather; rerun with --resume")
        if not blocks:
            return torch.zeros(0)
        return torch.cat([done[b] for b in range(len(blocks))])

    def gather(self, done: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
        if self.world == 1:
            return done
        import torch.distributed as dist

        parts: list = [None] * self.world
        dist.all_gather_object(parts, {b: v.tolist() for b, v in done.items()})
        merged = {}
        for part in parts:
            for b, values in part.items():
                merged[b] = torch.tensor(values)  # bool or float32, as stored
        return merged


def is_out_of_memory(error: BaseException) -> bool:
    """A GPU's OutOfMemoryError, or the CPU allocator's failure (a RuntimeError saying it cannot allocate)."""
    if isinstance(error, getattr(torch, "OutOfMemoryError", ())):
        return True
    return isinstance(error, (RuntimeError, MemoryError)) and (
        isinstance(error, MemoryError) or "can't allocate memory" in str(error) or "out of memory" in str(error))
