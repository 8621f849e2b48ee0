"""Data-parallel training across processes: every advkit trainer runs unchanged under ``torchrun``.

Synchronous data parallelism (Goyal et al. 2017, "Accurate, Large Minibatch SGD"; Li et al. 2020, "PyTorch
Distributed: Experiences on Accelerating Data Parallel Training"): N processes hold the same weights, each
computes the gradient of the mean loss over its own batch of B examples, the gradients are averaged,

    g = (1/N) sum_r g_r  =  gradient of the mean loss over the global batch of N*B examples,

and every process applies the same optimizer step, so the weights stay identical without ever being sent.
``--batch-size`` is the batch *per process* (the torchrun convention): N processes train with a global
batch of N x batch-size.

Launch (``torchrun`` sets WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; docs/distributed.md)::

    torchrun --nproc_per_node=4 -m advkit.cli.main gan train --arch dcgan --dataset mnist

What :func:`setup` (called by ``open_session``) and :meth:`DistContext.prepare` (called by ``Trainer``) do:

* process group: NCCL when the run's device is CUDA (each process uses ``cuda:LOCAL_RANK``), gloo on the CPU;
* seeds: every process seeds with ``--seed`` *before* building models, so initial weights are identical (and
  rank 0's weights are broadcast after ``build()`` to make it a guarantee); afterwards each process reseeds
  its data and noise streams with :func:`rank_seed`, so ranks draw different batches and noise;
* rank 0 alone writes: run directory, metrics, TensorBoard, checkpoints, sample grids (other ranks get a
  ``RunDir(main_process=False)`` on the same path, whose writes are no-ops, and no progress bar);
* gradients averaged in an optimizer step pre-hook; floating buffers (BatchNorm running statistics) averaged
  after every step, together with the Ctrl-C and NaN flags, so all ranks stop at the same step.

Why gradient averaging in ``Optimizer.register_step_pre_hook`` and not ``DistributedDataParallel`` for the
trainers: DDP reduces gradients during ``backward()``, one reduction per forward of the wrapped module, and
assumes each backward ends in a step of that module. GAN steps break that: the generator phase
back-propagates through D without stepping D (DDP would all-reduce D's gradients only to throw them away);
WGAN-GP's penalty differentiates D with ``torch.autograd.grad(create_graph=True)``, which DDP documents as
unsupported (it reduces only what ``backward()`` accumulates into ``.grad``); and DDP overwrites every rank's
BatchNorm buffers with rank 0's at each forward. Wrapping would also hide ``.config``, ``.registered_name``
and methods such as ``G.noise`` that trainers and checkpoints use. Averaging the gradient right before
``optimizer.step()`` is exact for any sequence of forwards and backwards, keeps ``self.models[...]`` the plain
modules, and costs one all-reduce of one flat buffer per optimizer step. What it gives up is DDP's overlap of
communication with the backward pass; for one-forward-one-backward classifiers, :func:`wrap_ddp` offers DDP.

Rules for a trainer under N processes: every rank calls each optimizer's ``step()`` the same number of times
in the same order (never skip a step on one rank only; float16 ``GradScaler`` does that rank by rank on inf
gradients, so multi-process runs use bf16, which needs no scaler); every optimizer is registered in
``self.optimizers`` (where the averaging hook is installed); gradient clipping before ``step()`` clips the
local gradient (call :meth:`DistContext.average_gradients` first if it must see the global one); BatchNorm
normalizes with per-rank batch statistics, as under DDP, and its running statistics are averaged (exact for
the running mean; the running variance lacks the small between-rank term). Resuming a checkpoint under N
processes restores rank 0's streams exactly and reseeds the other ranks from (seed, rank, step): reproducible,
not bit-identical to the uninterrupted run.

    >>> ctx = setup("auto")                 # single process (no WORLD_SIZE): ctx.enabled is False, a no-op
    >>> ctx.prepare(models, optimizers, seed=0)
"""

from __future__ import annotations

import atexit
import datetime
import os
from dataclasses import dataclass, field
from typing import Iterable

import torch
import torch.distributed as dist
from torch import nn

from advkit.errors import AdvkitError

_GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio (Weyl sequence): ranks of small seeds land far apart


def rank_seed(seed: int, rank: int, step: int = 0) -> int:
    """The seed of rank ``rank``'s data/noise streams; rank 0 at step 0 keeps ``seed`` (single-process runs
    are unchanged by this module)."""
    if rank == 0 and step == 0:
        return int(seed)
    return (int(seed) + rank * _GOLDEN + step * (_GOLDEN >> 7)) % 2**63


def launched_by_torchrun(env: dict | None = None) -> bool:
    """True when the environment describes a multi-process job (torchrun or equivalent)."""
    env = os.environ if env is None else env
    return int(env.get("WORLD_SIZE", "1") or "1") > 1


@dataclass
class DistContext:
    """Where this process stands in the job. Single process: rank 0 of 1, every method a no-op."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    device: torch.device | None = None
    _hooks: list = field(default_factory=list, repr=False)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # ------------------------------------------------------------------ trainer integration
    def prepare(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer], seed: int) -> None:
        """After ``build()``: make rank 0's weights everyone's, average gradients at each optimizer step, and
        give each rank its own noise stream."""
        if not self.enabled:
            return
        for model in models.values():
            broadcast_module(model)
        for optimizer in optimizers.values():
            self._hooks.append(optimizer.register_step_pre_hook(self._average_before_step))
        seed_streams(rank_seed(seed, self.rank))

    def reseed_after_resume(self, generator: torch.Generator, seed: int, step: int) -> None:
        """A checkpoint holds rank 0's random streams; the other ranks derive theirs from (seed, rank, step)."""
        if self.enabled and not self.is_main:
            s = rank_seed(seed, self.rank, step)
            generator.manual_seed(s)
            seed_streams(s)

    def end_step(self, models: dict[str, nn.Module], bad: dict[str, float],
                 stop: bool) -> tuple[dict[str, float], bool]:
        """After each step: average floating buffers and agree on the NaN and Ctrl-C flags, in one all-reduce,
        so that no rank trains on while another stopped (which would hang it in the next collective)."""
        if not self.enabled:
            return bad, stop
        # Buffers change only in training mode (BatchNorm statistics, spectral-norm vectors); frozen or eval-mode
        # modules (EMA copies, feature networks) hold identical buffers on every rank and are not sent.
        buffers = [b for m in models.values() for sub in m.modules() if sub.training
                   for b in sub.buffers(recurse=False) if b.is_floating_point()]
        flags = torch.tensor([float(bool(bad)), float(bool(stop))], device=self.device)
        flat = torch.cat([flags] + [b.detach().reshape(-1).to(self.device, torch.float32) for b in buffers])
        dist.all_reduce(flat)
        offset = 2
        for b in buffers:
            n = b.numel()
            b.copy_((flat[offset:offset + n] / self.world_size).view_as(b))
            offset += n
        any_bad, any_stop = (v > 0 for v in flat[:2].tolist())  # one device sync, not two
        if any_bad and not bad:
            bad = {"loss on another rank": float("nan")}
        return bad, any_stop

    # ------------------------------------------------------------------ gradients
    def _average_before_step(self, optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        self.average_gradients(p for group in optimizer.param_groups for p in group["params"])

    def average_gradients(self, params: Iterable[torch.Tensor]) -> None:
        """Replace each gradient by its mean over ranks, in one all-reduce of one flat buffer.

        A parameter without a gradient on some ranks (unused in their loss) counts as a zero gradient there;
        one without a gradient on every rank keeps ``grad = None`` (so Adam skips it, as it would alone)."""
        if not self.enabled:
            return
        params = [p for p in params if p.requires_grad]
        if not params:
            return
        device = self.device  # NCCL reduces only tensors on this rank's GPU; gloo those on the CPU
        present = torch.tensor([float(p.grad is not None) for p in params], device=device)
        pieces = [p.grad.detach().reshape(-1).to(device, torch.float32) if p.grad is not None
                  else torch.zeros(p.numel(), device=device) for p in params]
        flat = torch.cat([present, *pieces])
        dist.all_reduce(flat)
        holders = flat[:len(params)].tolist()  # one device sync for all the presence flags
        offset = len(params)
        for p, count in zip(params, holders):
            n = p.numel()
            if count > 0:
                mean = (flat[offset:offset + n] / self.world_size).view_as(p)
                if p.grad is None:
                    p.grad = mean.to(p.device, p.dtype)
                else:
                    p.grad.copy_(mean)
            offset += n

    # ------------------------------------------------------------------ data
    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous 1/N of a global batch drawn identically on every rank (a shared generator)."""
        if not self.enabled:
            return batch
        if batch.shape[0] % self.world_size:
            raise AdvkitError(f"a global batch of {batch.shape[0]} does not split over {self.world_size} processes; "
                              "use a batch size divisible by the number of processes")
        per_rank = batch.shape[0] // self.world_size
        return batch[self.rank * per_rank:(self.rank + 1) * per_rank]

    def sampler(self, dataset, shuffle: bool = True, seed: int = 0, drop_last: bool = True):
        """A ``DistributedSampler`` for DataLoader-based training (None in a single process): each rank reads a
        disjoint 1/N of every epoch; call ``sampler.set_epoch(epoch)`` so the shuffle changes per epoch."""
        if not self.enabled:
            return None
        from torch.utils.data.distributed import DistributedSampler

        return DistributedSampler(dataset, num_replicas=self.world_size, rank=self.rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)

    def broadcast_object(self, obj):
        """Rank 0's value of a picklable object, on every rank (e.g. the run directory path)."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


SINGLE = DistContext()
_current: DistContext = SINGLE


def current() -> DistContext:
    """The context :func:`setup` established in this process (single process when it was not called)."""
    return _current


def setup(device_spec: str = "auto", env: dict | None = None) -> DistContext:
    """Join the torchrun job described by the environment, or return the single-process context.

    The device follows ``--device``: ``auto`` / ``cuda`` give each process ``cuda:LOCAL_RANK`` and NCCL;
    ``cpu`` (or ``auto`` without CUDA) gives gloo. Idempotent: a second call returns the same context."""
    global _current
    env = os.environ if env is None else env
    if not launched_by_torchrun(env):
        return SINGLE
    if _current.enabled:
        return _current
    if not dist.is_available():
        raise AdvkitError("WORLD_SIZE > 1 but this torch build has no torch.distributed; run a single process "
                          "(without torchrun) or install a torch with distributed support")
    try:
        rank, world, local_rank = int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", "0"))
    except (KeyError, ValueError):
        raise AdvkitError("WORLD_SIZE is set but RANK is missing or not a number; launch with "
                          "`torchrun --nproc_per_node=N -m advkit.cli.main ...`") from None
    spec = (device_spec or "auto").strip().lower()
    if spec.startswith("cuda:"):
        raise AdvkitError(f"--device {spec}: under torchrun each process uses cuda:LOCAL_RANK; pass --device cuda "
                          "(or auto) and choose GPUs with CUDA_VISIBLE_DEVICES")
    use_cuda = spec == "cuda" or (spec == "auto" and torch.cuda.is_available())
    if use_cuda:
        if not torch.cuda.is_available():
            raise AdvkitError("--device cuda under torchrun but no CUDA device is available; use --device cpu")
        if local_rank >= torch.cuda.device_count():
            raise AdvkitError(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} CUDA device(s) on this "
                              "node; lower --nproc_per_node to the number of GPUs")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)  # NCCL and un-indexed "cuda" tensors must land on this rank's GPU
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
        if not dist.is_gloo_available():
            raise AdvkitError("this torch build has no gloo backend for multi-process CPU training; use GPUs (NCCL)")
    if not dist.is_initialized():
        # 30 minutes: the other ranks wait in their next collective while rank 0 evaluates (FID, PSNR).
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=datetime.timedelta(minutes=30))
    _current = DistContext(rank, world, local_rank, backend, device)
    atexit.register(teardown)
    return _current


def teardown() -> None:
    """Leave the process group (safe to call twice, or without a group)."""
    global _current
    for handle in _current._hooks:
        handle.remove()
    _current._hooks.clear()
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _current = SINGLE


def seed_streams(seed: int) -> None:
    """Reseed python, numpy and torch (all devices) without touching the deterministic-kernel settings."""
    from advkit.runtime.seeding import seed_everything

    seed_everything(seed, deterministic=False)


@torch.no_grad()
def broadcast_module(model: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers into every rank's ``model`` (one broadcast per tensor)."""
    for tensor in list(model.parameters()) + list(model.buffers()):
        dist.broadcast(tensor.data, src=src)


def wrap_ddp(model: nn.Module, ctx: DistContext | None = None, sync_batchnorm: bool = False, **ddp_kwargs) -> nn.Module:
    """``DistributedDataParallel`` for a model trained with one forward then one backward per step (a
    classifier); returns the model unchanged in a single process. ``sync_batchnorm`` (CUDA only) makes
    BatchNorm use the statistics of the global batch. Checkpoints store the unwrapped weights either way."""
    ctx = ctx or current()
    if not ctx.enabled:
        return model
    if sync_batchnorm:
        if ctx.device is None or ctx.device.type != "cuda":
            raise AdvkitError("SyncBatchNorm needs CUDA devices; drop sync_batchnorm for CPU (gloo) training")
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = [ctx.device.index] if ctx.device is not None and ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids, **ddp_kwargs)
