"""Checkpoints: rebuilt from the file alone, written atomically, never executing pickled code."""

from __future__ import annotations

import os
import pickle
import re
import stat
import zipfile

import pytest
import torch

from advkit.errors import AdvkitError
from advkit.models.registry import rebuild_models
from advkit.runtime import checkpoint as ckpt
from conftest import TinyNet, TinyNetConfig


def _net(seed=0):
    torch.manual_seed(seed)
    return TinyNet(TinyNetConfig(in_features=5, hidden=7, out_features=2))


def test_round_trip_rebuilds_model_from_file_alone(tmp_path):
    net = _net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net(torch.randn(3, 5)).sum().backward()
    opt.step()
    path = ckpt.save_checkpoint(tmp_path / "c.pt", step=7, config={"lr": 1e-3}, models={"net": net},
                                optimizers={"net": opt})
    payload = ckpt.load_checkpoint(path)
    assert payload["step"] == 7 and payload["config"] == {"lr": 1e-3}
    assert payload["models"]["net"] == {"name": "test-tiny-net", "args": {"in_features": 5, "hidden": 7, "out_features": 2}}
    rebuilt = rebuild_models(payload)["net"]
    x = torch.randn(4, 5)
    assert torch.equal(rebuilt(x), net(x))
    opt2 = torch.optim.Adam(rebuilt.parameters(), lr=1e-3)
    opt2.load_state_dict(payload["optim"]["net"])
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_failed_write_leaves_previous_checkpoint_loadable(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    ckpt.save_checkpoint(path, step=1, config={}, models={"net": _net(0)})
    real_save = torch.save

    def dying_save(obj, f, *a, **k):
        f.write(b"PK\x03\x04 half a zip")  # the writer dies mid-write: disk full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(OSError):
        ckpt.save_checkpoint(path, step=2, config={}, models={"net": _net(1)})
    monkeypatch.setattr(torch, "save", real_save)
    assert ckpt.load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_writer_killed_mid_write_leaves_previous_checkpoint(tmp_path):
    """A real process killed with SIGKILL while writing a large checkpoint."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "c.pt"
    ckpt.save_checkpoint(path, step=1, config={}, models={"net": _net(0)})
    script = (
        "import torch, sys; sys.path.insert(0, 'tests'); from conftest import TinyNet, TinyNetConfig;"
        "from advkit.runtime.checkpoint import save_checkpoint;"
        "net = TinyNet(TinyNetConfig(in_features=4000, hidden=4000, out_features=4000));"
        "print('ready', flush=True);"
        f"[save_checkpoint(r'{path}', step=2 + i, config={{}}, models={{'net': net}}) for i in range(100)]"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    payload = ckpt.load_checkpoint(path)  # whatever step it reached, the file is whole
    assert payload["step"] >= 1


class _Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))  # unpickling this creates the marker file


def test_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "advkit-checkpoint", "version": 1, "payload": _Marker(str(marker))}, evil)
    with pytest.raises(AdvkitError, match="could run code"):
        ckpt.load_checkpoint(evil)
    assert not marker.exists()
    # a raw pickle file (not a torch zip) is refused too
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Marker(str(marker))))
    with pytest.raises(AdvkitError):
        ckpt.load_checkpoint(raw)
    assert not marker.exists()


def test_bad_files_give_one_line_errors(tmp_path):
    good = ckpt.save_checkpoint(tmp_path / "good.pt", step=1, config={}, models={"net": _net()})
    truncated = tmp_path / "trunc.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    future = tmp_path / "future.pt"
    torch.save({"format": "advkit-checkpoint", "version": 99}, future)
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    for path, message in [(tmp_path / "missing.pt", "does not exist"),
                          (truncated, "trunc.pt is truncated or corrupt; re-download or re-export it$"),
                          (text, r"notes.pt is not an advkit checkpoint \(not a PyTorch file\); pass a .pt file"),
                          (other, "not an advkit checkpoint"), (future, "version 99")]:
        with pytest.raises(AdvkitError, match=message) as info:
            ckpt.load_checkpoint(path)
        assert "\n" not in info.value.message
        assert not re.search(r"\d{3}|Errno|miniz|zip archive|central directory", info.value.message.split(".pt")[-1])


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_checkpoints_get_the_permissions_of_any_new_file(tmp_path, umask):
    """Written atomically through a 0600 temp file, but landing with 0666 & ~umask like any file the user makes."""
    old = os.umask(umask)
    try:
        path = ckpt.save_checkpoint(tmp_path / "c.pt", step=1, config={}, models={"net": _net()})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left


def test_a_run_directory_gets_checkpoints_only_when_one_is_written(tmp_path):
    from advkit.runtime.rundir import RunDir

    run = RunDir.create("demo", tmp_path / "run")
    assert not run.checkpoints.exists()
    ckpt.save_checkpoint(run.checkpoints / "best.pt", step=1, config={}, models={"net": _net()})
    assert (run.checkpoints / "best.pt").is_file()
    run.close()


def test_other_architecture_is_refused(tmp_path):
    path = ckpt.save_checkpoint(tmp_path / "c.pt", step=1, config={}, models={"net": _net()})
    payload = ckpt.load_checkpoint(path)
    payload["models"]["net"]["args"]["hidden"] = 9  # weights no longer fit
    with pytest.raises(AdvkitError, match="do not fit"):
        rebuild_models(payload)


def test_latest_checkpoint_picks_highest_step(tmp_path):
    for step in (5, 120, 40):
        ckpt.save_checkpoint(ckpt.checkpoint_path(tmp_path / "checkpoints", step), step=step, config={},
                             models={"net": _net()})
    assert ckpt.latest_checkpoint(tmp_path).name == "step-00000120.pt"
    ckpt.prune_checkpoints(tmp_path / "checkpoints", keep=1)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-00000120.pt"]
    assert zipfile.is_zipfile(ckpt.latest_checkpoint(tmp_path))
