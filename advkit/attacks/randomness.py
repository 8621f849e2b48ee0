"""Where an attack's random numbers come from: one generator for the batch, or one stream per point.

Attacks draw their random starts (PGD, APGD, FAB) and Square's windows, signs and patterns through a *draws*
object, built from what the caller passes as ``generator`` (:func:`as_draws`):

* :class:`BatchDraws` wraps a ``torch.Generator`` (or, for ``None``, the global RNG): a draw of shape ``[m, ...]``
  is one call, as torchattacks and the authors' code draw, so a seed gives their numbers.
* :class:`PointDraws` gives every point its own stream, seeded from the point itself (:func:`point_seed`): row i
  of every draw comes from point i's stream alone. A point's numbers therefore do not depend on which points
  share its batch, on the batch size, or on which process attacks it, which is what lets ``eval robustness`` split
  points over processes, resume a killed run and change ``--batch-size`` without changing a single result.

Draws are made on the CPU (a seed gives the same numbers on every device); callers move them to their device.
``draws.subset(index)`` is the draws of a sub-batch (a restart on the points still robust, Square's active points):
for PointDraws the streams of those points, advanced in place; for BatchDraws the same generator.

    >>> draws = PointDraws([point_seed(0, "0.1", "square", i) for i in indices])
    >>> x_adv = Square(model, eps=0.1, generator=draws)(x[indices], y[indices])
"""

from __future__ import annotations

import hashlib
import math
from typing import Sequence, Union

import torch

from advkit.errors import AdvkitError

# float32 just below 1: float64 uniforms in [0, 1) rounded to float32 may otherwise round up to 1.0.
_BELOW_ONE = 1.0 - 2.0 ** -24


def point_seed(*where) -> int:
    """A 63-bit seed that depends on ``where`` only (e.g. run seed, eps, attack name, the point's index)."""
    digest = hashlib.sha256("|".join(str(part) for part in where).encode()).digest()
    return int.from_bytes(digest[:8], "little") % 2**63


class BatchDraws:
    """Draws for the whole batch from one generator (``None``: torch's global CPU RNG)."""

    def __init__(self, generator: torch.Generator | None = None):
        self.generator = generator

    def _kw(self) -> dict:
        return {"generator": self.generator} if self.generator is not None else {}

    def rand(self, shape: Sequence[int]) -> torch.Tensor:
        return torch.rand(tuple(shape), **self._kw())

    def randn(self, shape: Sequence[int]) -> torch.Tensor:
        return torch.randn(tuple(shape), **self._kw())

    def randint(self, high: int, shape: Sequence[int]) -> torch.Tensor:
        return torch.randint(0, high, tuple(shape), **self._kw())

    def subset(self, index: torch.Tensor) -> "BatchDraws":
        return self


class _Streams:
    """The per-point state shared by a PointDraws and its subsets: a generator and a buffer of uniforms per point.

    Small draws (Square's corners and signs, every query) are served from the buffer, refilled per point
    ``buffer`` numbers at a time, so a query costs one gather instead of one generator call per point."""

    def __init__(self, seeds: Sequence[int], buffer: int):
        self.seeds = [int(s) for s in seeds]
        self.generators: list[torch.Generator | None] = [None] * len(self.seeds)
        self.buffer = torch.empty(len(self.seeds), buffer, dtype=torch.float64)
        self.used = torch.full((len(self.seeds),), buffer, dtype=torch.long)  # all used: filled at the first draw

    def generator(self, row: int) -> torch.Generator:
        if self.generators[row] is None:
            self.generators[row] = torch.Generator().manual_seed(self.seeds[row])
        return self.generators[row]

    def uniform(self, rows: torch.Tensor, k: int, large_dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """[len(rows), k] uniforms in [0, 1): the next k numbers of each row's stream (float64 from the buffer;
        a large draw, a random start, comes straight from the generator in ``large_dtype``)."""
        size = self.buffer.shape[1]
        if k > size // 4:
            if not rows.numel():
                return torch.zeros(0, k, dtype=large_dtype)
            return torch.stack([torch.rand(k, generator=self.generator(r), dtype=large_dtype) for r in rows.tolist()])
        for r in rows[self.used[rows] + k > size].tolist():
            left = self.buffer[r, self.used[r]:].clone()
            fresh = torch.rand(size - left.numel(), generator=self.generator(r), dtype=torch.float64)
            self.buffer[r] = torch.cat((left, fresh))
            self.used[r] = 0
        columns = self.used[rows][:, None] + torch.arange(k)
        out = self.buffer[rows[:, None], columns]
        self.used[rows] += k
        return out


class PointDraws:
    """Draws with one stream per point: row i of every draw comes from point i's stream (see the module doc).

    ``seeds``: one int per point of the batch the attack is called on (:func:`point_seed`)."""

    def __init__(self, seeds: Sequence[int], buffer: int = 1024, _streams: _Streams | None = None,
                 _rows: torch.Tensor | None = None):
        self.streams = _streams if _streams is not None else _Streams(seeds, buffer)
        self.rows = _rows if _rows is not None else torch.arange(len(self.streams.seeds))

    def __len__(self) -> int:
        return self.rows.numel()

    @property
    def seeds(self) -> list[int]:
        return [self.streams.seeds[r] for r in self.rows.tolist()]

    def _per_row(self, shape: Sequence[int]) -> int:
        shape = tuple(shape)
        if not shape or shape[0] != len(self):
            raise AdvkitError(f"per-point draws for {len(self)} points asked for shape {shape}: the first "
                              "dimension must be the number of points (pass draws.subset(index) for a sub-batch)")
        return math.prod(shape[1:])

    def rand(self, shape: Sequence[int]) -> torch.Tensor:
        k = self._per_row(shape)
        # float32 straight from the generator for large draws: an ImageNet batch's start in float64 would double it
        uniform = self.streams.uniform(self.rows, k, large_dtype=torch.float32)
        return uniform.float().clamp_(max=_BELOW_ONE).view(tuple(shape))

    def randint(self, high: int, shape: Sequence[int]) -> torch.Tensor:
        k = self._per_row(shape)
        return (self.streams.uniform(self.rows, k) * high).long().clamp_(max=high - 1).view(tuple(shape))

    def randn(self, shape: Sequence[int]) -> torch.Tensor:
        k = self._per_row(shape)
        rows = self.rows.tolist()
        if not rows:
            return torch.zeros(tuple(shape))
        return torch.stack([torch.randn(k, generator=self.streams.generator(r)) for r in rows]).view(tuple(shape))

    def subset(self, index: torch.Tensor) -> "PointDraws":
        """The draws of points ``index`` of this batch (their streams, shared: drawing advances them here too)."""
        index = torch.as_tensor(index).cpu()
        if index.dtype == torch.bool:
            raise AdvkitError("draws.subset takes point indices, not a mask: pass mask.nonzero()[:, 0]")
        return PointDraws((), _streams=self.streams, _rows=self.rows[index.long()])

    def derive(self, name: str) -> "PointDraws":
        """Fresh streams for another attack on the same points (AutoAttack's members): seeded by (point, name)."""
        return PointDraws([point_seed(seed, name) for seed in self.seeds], buffer=self.streams.buffer.shape[1])


Draws = Union[BatchDraws, PointDraws]


def as_draws(generator: torch.Generator | Draws | None) -> Draws:
    """The draws object for an attack's ``generator`` argument (a torch.Generator, None, or draws already)."""
    if isinstance(generator, (BatchDraws, PointDraws)):
        return generator
    if generator is None or isinstance(generator, torch.Generator):
        return BatchDraws(generator)
    raise AdvkitError(f"an attack's generator must be a torch.Generator, advkit.attacks.PointDraws or None; "
                      f"got {type(generator).__name__}")
