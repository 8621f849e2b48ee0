"""Faults lose nothing: SIGKILL then --resume ends bit-identical to an uninterrupted run; Ctrl-C saves and exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from advkit.runtime.checkpoint import latest_checkpoint, load_checkpoint

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}

GAN = ["gan", "train", "--dataset", "ring", "--arch", "mlp", "--steps", "300", "--batch-size", "64",
       "--checkpoint-every", "20", "--sample-every", "300", "--log-every", "20", "--eval-samples", "200",
       "--keep-checkpoints", "50", "--deterministic", "--quiet", "--device", "cpu"]
ADV = ["advtrain", "--arch", "softmax", "--alpha", "0.5", "--eps", "0.25", "--steps", "200", "--batch-size", "32",
       "--checkpoint-every", "10", "--log-every", "10", "--keep-checkpoints", "50", "--deterministic", "--quiet",
       "--device", "cpu", "--train-size", "256", "--report-size", "200"]


def advkit(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "advkit.cli.main", *args], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(run: Path, min_step: int, proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = latest_checkpoint(run)
        if found is not None and load_checkpoint(found)["step"] >= min_step:
            return
        if proc.poll() is not None:
            pytest.fail(f"training ended before step {min_step}: {proc.stderr.read()[-500:]}")
        time.sleep(0.2)
    pytest.fail(f"no checkpoint at step >= {min_step} within {timeout}s")


def final_state(run: Path) -> dict:
    return load_checkpoint(latest_checkpoint(run))


def assert_same_training(a: dict, b: dict) -> None:
    assert a["step"] == b["step"]
    for role in a["state"]:
        for name, tensor in a["state"][role].items():
            assert torch.equal(tensor, b["state"][role][name]), f"{role}.{name} differs"
    for role in a["optim"]:
        for idx, state in a["optim"][role]["state"].items():
            for key, value in state.items():
                other = b["optim"][role]["state"][idx][key]
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(other)), f"optimizer {role} {key} differs"


@pytest.mark.parametrize("argv,kill_after", [(GAN, 60), (ADV, 40)], ids=["gan", "advtrain"])
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, argv, kill_after):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    proc = advkit(*argv, "--out", str(killed))
    wait_for_checkpoint(killed, kill_after, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = advkit(*argv, "--resume", str(killed))
    reference = advkit(*argv, "--out", str(whole))
    for p in (resumed, reference):
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-800:]
    assert_same_training(final_state(killed), final_state(whole))


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path):
    run = tmp_path / "run"
    argv = [a if a != "300" else "100000" for a in GAN]  # long enough to be interrupted
    proc = advkit(*argv, "--out", str(run))
    wait_for_checkpoint(run, 20, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-800:]
    assert "--resume" in err and "Traceback" not in err
    step = final_state(run)["step"]
    assert step >= 20
    resumed = advkit(*[a if a != "100000" else str(step + 20) for a in argv], "--resume", str(run))
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-800:]
    assert final_state(run)["step"] == step + 20


def test_two_runs_on_one_directory_second_refuses(tmp_path):
    run = tmp_path / "run"
    argv = [a if a != "300" else "100000" for a in GAN]
    first = advkit(*argv, "--out", str(run))
    wait_for_checkpoint(run, 20, first)
    second = advkit(*GAN, "--out", str(run))
    _, err = second.communicate(timeout=120)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert second.returncode == 2 and "in use by another advkit process" in err, err[-500:]
