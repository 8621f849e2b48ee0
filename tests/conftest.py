"""Shared fixtures: real data (skipped with a reason when absent), a CLI runner, a tiny registered model."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

from advkit.data.paths import data_root
from advkit.models.registry import register_model

os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The data root (ADVKIT_DATA) when it holds real denoising sets, else skip (`advkit data fetch CBSD68`)."""
    root = data_root()
    if not (root / "denoise").is_dir():
        pytest.skip("no real denoising sets in the data root; run `advkit data fetch CBSD68` or set ADVKIT_DATA")
    return root


@pytest.fixture(scope="session")
def denoise_sets(shared_data) -> Path:
    folder = shared_data / "denoise"
    if not (folder / "CBSD68").is_dir():
        pytest.skip("denoise/CBSD68 is not in the data root; run `advkit data fetch CBSD68` or set ADVKIT_DATA")
    return folder


@dataclass
class CLIResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300, env: dict | None = None) -> CLIResult:
    """Run `advkit ARGS` in a subprocess, exactly as a user would (exit codes, stderr, no traceback)."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "120", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "advkit.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=timeout, env=full_env)
    return CLIResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


@dataclass
class TinyNetConfig:
    in_features: int = 4
    hidden: int = 8
    out_features: int = 3


@register_model("test-tiny-net", TinyNetConfig)
class TinyNet(nn.Module):
    """A two-layer MLP used by the foundation tests."""

    def __init__(self, config: TinyNetConfig):
        super().__init__()
        self.config = config
        self.net = nn.Sequential(nn.Linear(config.in_features, config.hidden), nn.ReLU(),
                                 nn.Linear(config.hidden, config.out_features))

    def forward(self, x):
        return self.net(x)
