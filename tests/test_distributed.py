"""Data-parallel training: 2 CPU processes (gloo) equal one process with the same global batch.

Two ranks are spawned with the environment ``torchrun`` would give them (WORLD_SIZE, RANK, LOCAL_RANK,
MASTER_ADDR=127.0.0.1, a free port), so ``start_session`` and the ``Trainer`` base take their real
multi-process path. Each rank draws the same global batch indices from a shared generator and keeps its half
(``ctx.shard``); averaged gradients then equal the single-process gradient of the whole batch.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn

from advkit.runtime.session import open_session
from advkit.errors import NonFiniteLoss
from advkit.models.registry import register_model
from advkit.runtime import distributed
from advkit.train.base import Trainer
from advkit.train.config import TrainerConfig
from conftest import TinyNet, TinyNetConfig

WORLD = 2
PER_RANK_BATCH = 8
STEPS = 6
SEED = 3


@dataclass
class BNNetConfig:
    width: int = 6


@register_model("test-bn-net", BNNetConfig)
class BNNet(nn.Module):
    """Linear -> BatchNorm -> Linear: its running statistics are buffers the ranks must agree on."""

    def __init__(self, config: BNNetConfig):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(nn.Linear(4, config.width), nn.BatchNorm1d(config.width), nn.ReLU(),
                                 nn.Linear(config.width, 3))

    def forward(self, x):
        return self.net(x)


@dataclass
class ShardConfig(TrainerConfig):
    poison_rank: int = -1  # this rank's loss becomes NaN at step 2 (the others' stay finite)
    stop_rank: int = -1  # this rank gets Ctrl-C at step 2


class ShardToyTrainer(Trainer):
    """Regression on a fixed dataset; the global batch order comes from a generator shared by all ranks."""

    def build(self):
        self.models["net"] = TinyNet(TinyNetConfig()).to(self.device)
        self.models["bn"] = BNNet(BNNetConfig()).to(self.device)
        for role in self.models:
            self.optimizers[role] = torch.optim.Adam(self.models[role].parameters(), lr=0.05)
        g = torch.Generator().manual_seed(123)
        self.features = torch.randn(256, 4, generator=g)
        self.targets = self.features @ torch.randn(4, 3, generator=g) + 0.1 * torch.randn(256, 3, generator=g)
        self.shared = torch.Generator().manual_seed(self.seed + 1)  # identical on every rank

    def train_step(self, step):
        global_batch = self.config.batch_size * self.dist.world_size
        idx = self.dist.shard(torch.randint(len(self.features), (global_batch,), generator=self.shared))
        x, y = self.features[idx], self.targets[idx]
        if step == 2 and self.dist.rank == self.config.stop_rank:
            self._on_stop_signal(2, None)  # what the SIGINT handler does
        figures = {}
        for role, model in self.models.items():
            loss = F.mse_loss(model(x), y)
            if step == 2 and self.dist.rank == self.config.poison_rank:
                loss = loss * float("nan")
            self.optimizers[role].zero_grad()
            loss.backward()
            self.optimizers[role].step()  # every rank steps every optimizer: the averaging is a collective
            figures[f"{role}_loss"] = loss.item()
        return figures


def _fit(out, batch_size, quiet=True, **kw):
    config = ShardConfig(steps=STEPS, batch_size=batch_size, log_every=1, sample_every=100, checkpoint_every=100,
                         device="cpu", seed=SEED, **kw)
    session = open_session("toy-ddp", config, out=out, quiet=quiet, overwrite=True)
    trainer = ShardToyTrainer(config, session)
    try:
        trainer.fit()
    finally:
        session.run.close()
    return trainer, session


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update({"WORLD_SIZE": str(WORLD), "RANK": str(rank), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "GLOO_SOCKET_IFNAME": "lo",
                       "OMP_NUM_THREADS": "1"})
    torch.set_num_threads(1)
    report = {}
    trainer, session = _fit(f"{out}/run", PER_RANK_BATCH, quiet=False)
    report["state"] = {role: {k: v.clone() for k, v in m.state_dict().items()} for role, m in trainer.models.items()}
    report["run_path"] = str(session.run.path)
    report["quiet"] = session.quiet
    report["generator_draw"] = torch.rand(3, generator=trainer.generator)
    report["global_draw"] = torch.rand(3)

    # A NaN on one rank only stops every rank at the same step (none is left hanging in a collective).
    try:
        _fit(f"{out}/nan", PER_RANK_BATCH, poison_rank=1)
        report["nan"] = "no error"
    except NonFiniteLoss as e:
        report["nan"] = str(e)

    # Ctrl-C on one rank only: every rank stops after the same step; rank 0 writes the checkpoint.
    from advkit.errors import TrainingInterrupted
    try:
        _fit(f"{out}/stop", PER_RANK_BATCH, stop_rank=1)
        report["stop"] = "no stop"
    except TrainingInterrupted as e:
        report["stop"] = str(e)

    # The DistributedDataParallel helper (for one-forward-one-backward trainers) averages the same way.
    torch.manual_seed(SEED)
    ddp = distributed.wrap_ddp(TinyNet(TinyNetConfig()))
    report["ddp"] = _train_plain(ddp, distributed.current())
    torch.save(report, f"{out}/rank{rank}.pt")
    distributed.teardown()


def _train_plain(model: nn.Module, ctx) -> dict:
    """Three Adam steps on a fixed global batch sequence, ``ctx`` choosing this rank's shard."""
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(7)
    data = torch.randn(64, 4, generator=g)
    target = data @ torch.randn(4, 3, generator=g)
    for _ in range(3):
        idx = ctx.shard(torch.randint(64, (PER_RANK_BATCH * WORLD,), generator=g))
        opt.zero_grad()
        F.mse_loss(model(data[idx]), target[idx]).backward()
        opt.step()
    inner = getattr(model, "module", model)
    return {k: v.detach().clone() for k, v in inner.state_dict().items()}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """Run the 2-process job once; returns (out directory, per-rank reports)."""
    if not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("this torch build has no torch.distributed gloo backend")
    out = tmp_path_factory.mktemp("ddp")
    ctx = mp.start_processes(_worker, args=(_free_port(), str(out)), nprocs=WORLD, join=False, start_method="spawn")
    deadline = time.monotonic() + 120
    while not ctx.join(timeout=1):
        if time.monotonic() > deadline:
            for p in ctx.processes:
                if p.is_alive():
                    p.terminate()
            pytest.fail("the 2-process gloo job did not finish in 120 s (a rank is stuck in a collective)")
    return out, [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]


def _assert_close(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=0, msg=lambda m: f"{k}: {m}")


def test_ranks_hold_identical_weights_and_buffers(two_ranks):
    _, (r0, r1) = two_ranks
    for role in ("net", "bn"):
        for k, v in r0["state"][role].items():
            assert torch.equal(v, r1["state"][role][k]), f"{role}.{k} differs between ranks"
    # The BatchNorm running mean moved (so its agreement is not the trivial one of untouched buffers).
    assert r0["state"]["bn"]["net.1.running_mean"].abs().sum() > 0


def test_two_ranks_match_one_process_with_the_same_global_batch(two_ranks, tmp_path):
    _, (r0, _) = two_ranks
    single, _ = _fit(tmp_path / "single", PER_RANK_BATCH * WORLD)
    # two ranks average gradients by all-reduce (another summation order than one batch: ~1e-7 relative) over a few
    # Adam steps of lr ~1e-3: weights agree to ~1e-6; 1e-5
    _assert_close(r0["state"]["net"], single.models["net"].state_dict(), atol=1e-5)
    # Without averaging, rank 0 alone (half the batch) ends elsewhere: the comparison above can fail.
    half, _ = _fit(tmp_path / "half", PER_RANK_BATCH)
    gap = max((half.models["net"].state_dict()[k] - v).abs().max().item() for k, v in r0["state"]["net"].items())
    assert gap > 1e-3


def test_ranks_draw_different_streams_and_rank0_keeps_the_seed(two_ranks, tmp_path):
    _, (r0, r1) = two_ranks
    assert not torch.equal(r0["generator_draw"], r1["generator_draw"])
    assert not torch.equal(r0["global_draw"], r1["global_draw"])
    single, _ = _fit(tmp_path / "single", PER_RANK_BATCH * WORLD)
    # Rank 0's trainer generator is the single-process one: --seed means the same on one or N processes.
    assert torch.equal(r0["generator_draw"], torch.rand(3, generator=single.generator))


def test_only_rank0_writes(two_ranks):
    out, (r0, r1) = two_ranks
    assert r0["run_path"] == r1["run_path"] == str(out / "run")
    assert not r0["quiet"] and r1["quiet"]  # asked for progress: one bar, on rank 0
    lines = (out / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == STEPS  # one line per step, not one per rank
    config = (out / "run" / "config.json").read_text()
    assert '"world_size": 2' in config and '"backend": "gloo"' in config
    assert [p.name for p in (out / "run" / "checkpoints").iterdir()] == [f"step-{STEPS:08d}.pt"]


def test_nan_and_ctrl_c_on_one_rank_stop_every_rank_together(two_ranks):
    out, (r0, r1) = two_ranks
    assert "step 3" in r0["nan"] and "step 3" in r1["nan"], (r0["nan"], r1["nan"])
    assert "loss on another rank" in r0["nan"]
    assert "step 3" in r0["stop"] and "step 3" in r1["stop"], (r0["stop"], r1["stop"])
    assert (out / "stop" / "checkpoints" / "step-00000003.pt").is_file()


def test_ddp_wrapper_matches_one_process(two_ranks):
    _, (r0, r1) = two_ranks
    _assert_close(r0["ddp"], r1["ddp"], atol=0)
    torch.manual_seed(SEED)
    single = _train_plain(TinyNet(TinyNetConfig()), distributed.SINGLE)
    # as above
    _assert_close(r0["ddp"], single, atol=1e-5)


def test_single_process_context_is_inert():
    ctx = distributed.setup("cpu", env={})
    assert ctx is distributed.SINGLE and not ctx.enabled and ctx.is_main
    x = torch.arange(6)
    assert ctx.shard(x) is x and ctx.sampler(list(range(4))) is None and ctx.broadcast_object(5) == 5
    assert distributed.rank_seed(11, 0) == 11
    seeds = {distributed.rank_seed(s, r, step) for s in range(4) for r in range(4) for step in (0, 100)}
    assert len(seeds) == 32  # no two (seed, rank, step) share a stream


def test_shard_and_sampler_split_a_global_batch():
    ranks = [distributed.DistContext(rank=r, world_size=3) for r in range(3)]
    batch = torch.arange(12)
    assert torch.equal(torch.cat([c.shard(batch) for c in ranks]), batch)
    with pytest.raises(Exception, match="divisible"):
        ranks[0].shard(torch.arange(10))
    seen = [list(c.sampler(list(range(9)), shuffle=True, seed=1)) for c in ranks]
    assert sorted(sum(seen, [])) == list(range(9)) and all(len(s) == 3 for s in seen)


@pytest.mark.parametrize("device, env, message", [
    ("cuda:1", {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}, "cuda:LOCAL_RANK"),
    ("cpu", {"WORLD_SIZE": "2"}, "RANK is missing"),
    ("cpu", {"WORLD_SIZE": "2", "RANK": "one"}, "RANK is missing or not a number"),
])
def test_bad_launch_environment_is_a_one_line_error(device, env, message):
    from advkit.errors import AdvkitError

    with pytest.raises(AdvkitError, match=message):
        distributed.setup(device, env=env)
    assert distributed.current() is distributed.SINGLE and not dist.is_initialized()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when CUDA is absent")
def test_cuda_asked_without_cuda_under_torchrun():
    from advkit.errors import AdvkitError

    with pytest.raises(AdvkitError, match="no CUDA device"):
        distributed.setup("cuda", env={"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"})


def test_a_training_command_runs_unchanged_under_torchrun(tmp_path):
    """`torchrun --nproc_per_node=2 -m advkit.cli.main gan train ...`: one run directory, written once."""
    import subprocess
    import sys

    if not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("this torch build has no torch.distributed gloo backend")
    out, steps = tmp_path / "gan", 4
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
           f"--master_port={_free_port()}", "-m", "advkit.cli.main", "gan", "train", "--dataset", "fake",
           "--image-size", "28", "--hidden", "16", "--steps", str(steps), "--batch-size", "4", "--log-every", "1",
           "--sample-every", str(steps), "--checkpoint-every", "2", "--eval-samples", "64", "--device", "cpu",
           "--out", str(out), "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (proc.stdout + proc.stderr).count("run directory:") == 1  # rank 1 stays silent
    train_lines = [line for line in (out / "metrics.jsonl").read_text().splitlines() if '"g_loss"' in line]
    assert len(train_lines) == steps
    assert '"world_size": 2' in (out / "config.json").read_text()
    assert sorted(p.name for p in (out / "checkpoints").glob("step-*.pt")) == ["step-00000002.pt", "step-00000004.pt"]
