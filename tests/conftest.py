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


# name: (images, size, grey); sizes differ so that no two sets hold the same crops.
SAMPLE_SETS = {"CBSD432": (12, 64, False), "CBSD68": (3, 72, False), "Kodak24": (2, 80, False),
               "McMaster": (2, 88, False), "Set12": (2, 72, True), "BSD68": (2, 80, True), "Train400": (4, 64, True)}


def build_sample_data_root(root: Path) -> Path:
    """A data root (ADVKIT_DATA) with the vendored MNIST and small denoising sets under their real names, cut from
    scikit-image's sample photos: the denoising commands and recipes run on it end to end, with no download."""
    from fixtures_images import make_image_folder

    root.mkdir(parents=True, exist_ok=True)
    if not (root / "mnist").exists():
        (root / "mnist").symlink_to(data_root() / "mnist", target_is_directory=True)
    for name, (n, size, grey) in SAMPLE_SETS.items():
        make_image_folder(root / "denoise" / name, n=n, size=size, grey=grey)
    return root


@pytest.fixture(scope="session")
def sample_data_root(tmp_path_factory) -> Path:
    return build_sample_data_root(tmp_path_factory.mktemp("advkit-data"))


@pytest.fixture
def denoise_sets(sample_data_root, monkeypatch) -> Path:
    """The sample denoising sets (CBSD432, CBSD68, Kodak24, ...), with ADVKIT_DATA pointing at their root."""
    monkeypatch.setenv("ADVKIT_DATA", str(sample_data_root))
    return sample_data_root / "denoise"


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
