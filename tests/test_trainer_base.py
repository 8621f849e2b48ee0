"""The trainer base: same seed same run, exact resume, NaN guard, run-directory lock, Ctrl-C."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F

from advkit.runtime.session import RunConfig, open_session
from advkit.errors import AdvkitError, NonFiniteLoss
from advkit.runtime.checkpoint import latest_checkpoint, load_checkpoint
from advkit.runtime.rundir import RunDir
from advkit.train.base import Trainer
from advkit.train.config import TrainerConfig
from conftest import TinyNet, TinyNetConfig


@dataclass
class ToyConfig(TrainerConfig):
    lr: float = 0.05
    poison_at: int = -1  # step whose loss is made NaN


class ToyTrainer(Trainer):
    """Regress a fixed random linear map; batches and noise come from the trainer's generator."""

    def build(self):
        self.models["net"] = TinyNet(TinyNetConfig()).to(self.device)
        self.optimizers["net"] = torch.optim.Adam(self.models["net"].parameters(), lr=self.config.lr)
        self.target = torch.randn(4, 3, generator=torch.Generator().manual_seed(123))

    def train_step(self, step):
        x = torch.randn(self.config.batch_size, 4, generator=self.generator)
        y = x @ self.target + 0.1 * torch.randn(x.shape[0], 3)  # global RNG too: it must be checkpointed
        loss = F.mse_loss(self.models["net"](x), y)
        if step == self.config.poison_at:
            loss = loss * float("nan")
        self.optimizers["net"].zero_grad()
        loss.backward()
        if torch.isfinite(loss):
            self.optimizers["net"].step()
        return {"loss": loss.item()}


def _train(tmp_path, name, steps, seed=0, resume=None, **kw):
    config = ToyConfig(steps=steps, batch_size=8, log_every=1, sample_every=100, checkpoint_every=3, seed=seed,
                       device="cpu", **kw)
    session = open_session("toy", config, out=tmp_path / name, quiet=True, resume=resume)
    trainer = ToyTrainer(config, session)
    if resume:
        trainer.resume(resume)
    try:
        trainer.fit()
    finally:
        session.run.close()
    return trainer


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.models["net"].state_dict().items()}


def test_same_seed_same_run_and_different_seed_differs(tmp_path):
    a, b = _train(tmp_path, "a", 10), _train(tmp_path, "b", 10)
    c = _train(tmp_path, "c", 10, seed=1)
    assert all(torch.equal(a_, b_) for a_, b_ in zip(_weights(a).values(), _weights(b).values()))
    assert not torch.equal(_weights(a)["net.0.weight"], _weights(c)["net.0.weight"])


def test_resume_equals_uninterrupted_run(tmp_path):
    full = _train(tmp_path, "full", 9)
    _train(tmp_path, "part", 6)  # "killed" after its step-6 checkpoint
    resumed = _train(tmp_path, "resumed", 9, resume=tmp_path / "part")
    assert resumed.step == 9
    for k, v in _weights(full).items():
        assert torch.equal(v, _weights(resumed)[k]), k
    s_full = full.optimizers["net"].state_dict()["state"]
    s_res = resumed.optimizers["net"].state_dict()["state"]
    assert all(torch.equal(s_full[i]["exp_avg_sq"], s_res[i]["exp_avg_sq"]) for i in s_full)


def test_run_directory_holds_config_metrics_events_checkpoints(tmp_path):
    _train(tmp_path, "r", 6)
    run = tmp_path / "r"
    assert (run / "config.json").is_file() and (run / "images").is_dir()
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 6 and '"loss"' in lines[0]
    assert list(run.glob("events.out.tfevents.*"))
    assert latest_checkpoint(run).name == "step-00000006.pt"
    assert load_checkpoint(latest_checkpoint(run))["config"]["steps"] == 6


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    with pytest.raises(NonFiniteLoss, match="step 5: loss is nan"):
        _train(tmp_path, "nan", 9, poison_at=4)
    payload = load_checkpoint(latest_checkpoint(tmp_path / "nan"))
    assert payload["step"] == 3
    assert all(torch.isfinite(v).all() for v in payload["state"]["net"].values())


def test_second_run_on_same_directory_is_refused(tmp_path):
    first = RunDir(tmp_path / "shared")
    with pytest.raises(AdvkitError, match="in use by another advkit process"):
        RunDir(tmp_path / "shared")
    first.close()
    RunDir(tmp_path / "shared").close()  # free again once the first finished


def test_sigint_writes_checkpoint_and_resume_continues(tmp_path):
    from advkit.errors import TrainingInterrupted

    class Interrupting(ToyTrainer):
        def train_step(self, step):
            if step == 4:
                self._on_stop_signal(2, None)  # what the SIGINT handler does
            return super().train_step(step)

    config = ToyConfig(steps=9, batch_size=8, checkpoint_every=100, device="cpu")
    session = open_session("toy", config, out=tmp_path / "int", quiet=True)
    trainer = Interrupting(config, session)
    with pytest.raises(TrainingInterrupted, match="--resume"):
        trainer.fit()
    session.run.close()
    assert load_checkpoint(latest_checkpoint(tmp_path / "int"))["step"] == 5
    resumed = _train(tmp_path, "int2", 9, resume=tmp_path / "int")
    full = _train(tmp_path, "full", 9)
    assert all(torch.equal(v, _weights(resumed)[k]) for k, v in _weights(full).items())


def test_invalid_trainer_options_are_errors():
    for bad in ({"steps": 0}, {"batch_size": -1}, {"log_every": 0}):
        with pytest.raises(AdvkitError, match="positive integer"):
            ToyConfig(**bad)
    assert dataclasses.asdict(ToyConfig())["steps"] == 1000


def test_session_unlocks_its_run_directory_even_after_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with open_session("test", RunConfig(device="cpu"), out=tmp_path / "run", quiet=True) as session:
            assert session.run._lock_file is not None
            raise RuntimeError("boom")
    assert session.run._lock_file is None


def test_resume_from_a_directory_without_checkpoints_teaches_the_fix(tmp_path):
    from advkit.runtime.checkpoint import resolve_checkpoint

    (tmp_path / "empty").mkdir()
    with pytest.raises(AdvkitError, match="no checkpoint in it; pass a .pt file or a run directory"):
        resolve_checkpoint(tmp_path / "empty")


def test_resume_refuses_changed_options_and_lists_run_length_ones(tmp_path):
    _train(tmp_path, "run", 3)
    with pytest.raises(AdvkitError, match=r"options differ from the stored run \(--lr 0.05 -> 0.1\)"):
        _train(tmp_path, "other", 6, resume=tmp_path / "run", lr=0.1)
    with pytest.raises(AdvkitError, match=r"--seed 0 -> 1"):
        _train(tmp_path, "other2", 6, resume=tmp_path / "run", seed=1)
    longer = _train(tmp_path, "run", 6, resume=tmp_path / "run")  # more --steps: a run-length option
    assert longer.step == 6 and longer.changed_options == {"steps": (3, 6)}


def test_resume_may_change_device_and_precision_but_not_the_model():
    """A run started on the CPU in fp32 may continue with --cpu-bf16, or on a GPU (bf16 there by default)."""
    from advkit.train.base import compare_configs

    stored = {"device": "cpu", "cpu_bf16": False, "bf16": True, "spectral_norm": True}
    assert compare_configs(stored, {**stored, "device": "cuda", "cpu_bf16": True}, "run") == {
        "device": ("cpu", "cuda"), "cpu_bf16": (False, True)}
    with pytest.raises(AdvkitError, match=r"--spectral-norm True -> False"):
        compare_configs(stored, {**stored, "spectral_norm": False}, "run")


def test_a_used_out_is_refused_unless_resumed_or_overwritten(tmp_path):
    _train(tmp_path, "run", 3)
    with pytest.raises(AdvkitError, match="already holds a run; pass --resume"):
        _train(tmp_path, "run", 3)
    config = ToyConfig(steps=2, batch_size=8, device="cpu")
    with open_session("toy", config, out=tmp_path / "run", quiet=True, overwrite=True) as session:
        # Emptied: no step-3 checkpoint of the old run is left (checkpoints/ itself appears with the first one).
        assert not session.run.checkpoints.exists() or not any(session.run.checkpoints.iterdir())
        ToyTrainer(config, session).fit()
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["step-00000002.pt"]


def test_a_command_that_fails_before_its_work_leaves_no_run_directory(tmp_path):
    with pytest.raises(AdvkitError):
        with open_session("toy", ToyConfig(device="cpu"), out=tmp_path / "never", quiet=True):
            raise AdvkitError("bad input found after start-up")
    assert not (tmp_path / "never").exists()


def test_sigterm_checkpoints_like_ctrl_c(tmp_path):
    import os
    import signal

    from advkit.errors import TrainingInterrupted

    class Terminated(ToyTrainer):
        def train_step(self, step):
            if step == 4:
                os.kill(os.getpid(), signal.SIGTERM)  # a timeout or SLURM preemption
            return super().train_step(step)

    config = ToyConfig(steps=9, batch_size=8, checkpoint_every=100, device="cpu")
    with pytest.raises(TrainingInterrupted, match="--resume"):
        with open_session("toy", config, out=tmp_path / "term", quiet=True) as session:
            Terminated(config, session).fit()
    assert load_checkpoint(latest_checkpoint(tmp_path / "term"))["step"] == 5
