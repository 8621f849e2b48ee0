"""`advkit eval robustness` at scale: 2 CPU processes (gloo, launched by torchrun) give one process's results.json
point for point; a run killed with SIGKILL mid-attack and resumed equals an uninterrupted run; out of memory
halves the batch; the RobustBench model card. Real commands in subprocesses, small points and budgets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from advkit.errors import AdvkitError
from advkit.robustness.shards import PointStore, point_seeds

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = ("seconds", "figure", "report", "processes")  # wall-clock timings and the run directory's own paths
COMMON = ["eval", "robustness", "--model", "default", "--data", "mnist", "--subset", "first", "--device", "cpu",
          "--threads", "1", "--quiet"]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _advkit(args: list[str], launcher: list[str] | None = None, **kw) -> subprocess.CompletedProcess:
    # under torchrun, "--" ends torchrun's own options (its parser would read --n as an ambiguous abbreviation)
    cmd = [sys.executable, *(launcher or []), "-m", "advkit.cli.main", *(["--"] if launcher else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_env(), **kw)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _results(run: Path) -> dict:
    results = json.loads((run / "results.json").read_text())
    return {k: v for k, v in results.items() if k not in VOLATILE}


def test_point_seeds_depend_on_the_point_only():
    seeds = point_seeds(0, "0.1", "pgd", list(range(100)))
    assert len(set(seeds)) == 100 and all(0 <= s < 2**63 for s in seeds)
    assert point_seeds(0, "0.1", "pgd", [30, 7]) == [seeds[30], seeds[7]]  # whatever block it is in
    assert len({point_seeds(*where, [30])[0] for where in ((0, "0.1", "pgd"), (1, "0.1", "pgd"), (0, "0.2", "pgd"),
                                                              (0, "0.1", "square"))}) == 4


def test_a_changed_option_is_refused_on_resume(tmp_path):
    store = PointStore(tmp_path)
    plan = {"n": 10, "batch_size": 4, "eps": [0.1], "attacks": ["pgd"]}
    store.pin(plan)
    store.save("0.1", "pgd", 0, torch.tensor([True, False]))
    assert PointStore(tmp_path).load("0.1", "pgd", 0).tolist() == [True, False]
    assert not list(tmp_path.rglob("*.part"))  # written via a temporary file, renamed once whole
    with pytest.raises(AdvkitError, match="eps differ from the stored run's"):
        PointStore(tmp_path).pin({**plan, "eps": [0.2]})
    PointStore(tmp_path).pin({**plan, "batch_size": 2})  # halved after running out of memory: old blocks dropped
    assert PointStore(tmp_path).load("0.1", "pgd", 0) is None


def test_two_processes_equal_one_point_for_point(tmp_path):
    if not (dist.is_available() and dist.is_gloo_available()):
        pytest.skip("this torch build has no torch.distributed gloo backend")
    args = COMMON + ["--n", "40", "--eps", "0.05,0.1", "--attacks", "fgsm,pgd,apgd-ce", "--pgd-steps", "5",
                     "--batch-size", "8"]
    _advkit(args + ["--out", str(tmp_path / "one")])
    launcher = ["-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                f"--master_port={_free_port()}"]
    proc = _advkit(args + ["--out", str(tmp_path / "two")], launcher)
    assert proc.stderr.count("Traceback") == 0
    one, two = _results(tmp_path / "one"), _results(tmp_path / "two")
    assert one == two  # every per-point result (robust_points), accuracy and warning
    assert json.loads((tmp_path / "two" / "results.json").read_text())["processes"] == 2
    assert 0 < len(one["robust_points"]["0.1"]) < len(one["robust_points"]["0.05"])


def test_killed_mid_attack_and_resumed_equals_uninterrupted(tmp_path):
    args = COMMON + ["--n", "48", "--eps", "0.1", "--attacks", "fgsm,apgd-ce", "--batch-size", "4"]
    _advkit(args + ["--out", str(tmp_path / "whole")])
    blocks = tmp_path / "cut" / "points" / "0.1" / "apgd-ce"
    cmd = [sys.executable, "-m", "advkit.cli.main", *args, "--out", str(tmp_path / "cut")]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    total = len(list((tmp_path / "whole" / "points" / "0.1" / "apgd-ce").glob("block-*.pt")))
    deadline = time.time() + 240
    while len(list(blocks.glob("block-*.pt"))) < total // 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no handler, no clean-up: whatever is on disk is all there is
    proc.wait()
    kept = {p.name: p.stat().st_mtime_ns for p in blocks.glob("block-*.pt")}
    assert 0 < len(kept) < total, "the run was not killed mid-attack"
    assert not (tmp_path / "cut" / "results.json").exists()
    _advkit(["eval", "robustness", "--resume", str(tmp_path / "cut"), "--quiet"])
    assert _results(tmp_path / "cut") == _results(tmp_path / "whole")
    # the blocks finished before the kill were loaded, not attacked again
    assert all((blocks / name).stat().st_mtime_ns == mtime for name, mtime in kept.items())


def test_out_of_memory_halves_the_batch_and_the_model_card(tmp_path, monkeypatch):
    from advkit.commands.eval_robustness import RobustnessConfig, run

    (tmp_path / "limited.py").write_text(
        "import torch\nfrom advkit.models.loader import load_model\n\n"
        "class Limited(torch.nn.Module):\n"
        "    '''The shipped CNN on a device that holds at most 5 images: the CPU allocator's error above.'''\n"
        "    def __init__(self):\n        super().__init__()\n        self.net = load_model('default')\n"
        "    def forward(self, x):\n"
        "        if x.shape[0] > 5:\n"
        "            raise RuntimeError('[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can\\'t allocate memory')\n"
        "        return self.net(x)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    options = dict(model="limited:Limited", data="mnist", eps="0.1", attacks="fgsm,pgd", n=12, pgd_steps=3,
                   subset="first", device="cpu")
    limited = run(RobustnessConfig(**options, batch_size=16), out=str(tmp_path / "a"), quiet=True)
    assert limited["batch_size"] == 4 and "out of memory at batch size 16, 8" in limited["warnings"][0]
    plain = run(RobustnessConfig(**options, batch_size=4), out=str(tmp_path / "b"), quiet=True)
    assert limited["robust_points"] == plain["robust_points"] and limited["robust_accuracy"] == plain["robust_accuracy"]
    card = plain["model_card"]
    assert card["dataset"] == "mnist" and card["threat_model"] == "Linf" and card["n_examples"] == 12
    assert card["clean_acc"] == f"{100 * plain['clean_accuracy']:.2f}" and card["autoattack_acc"] is None
    assert "the first 12 test points" in (tmp_path / "b" / "report.md").read_text()


def test_eps_text_in_robustbench_form():
    from advkit.robustness.card import eps_text

    assert eps_text(8 / 255) == "8/255" and eps_text(0.3) == "0.3" and eps_text(4 / 255) == "4/255"


def test_channels_last_runs_the_same_function():
    from advkit.models.loader import load_model
    from advkit.runtime.amp import ChannelsLastInputs, has_conv2d

    model = load_model("default", "cpu")
    fast = ChannelsLastInputs(model).eval()
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        # the same sums in another order: float32 rounding (~1e-7 relative per add over ~400 terms) stays below 1e-4
        torch.testing.assert_close(fast(x), model(x), rtol=1e-4, atol=1e-4)
    assert has_conv2d(model) and not has_conv2d(torch.nn.Linear(3, 2))


def test_the_quick_budget_is_labelled_wherever_it_is_reported():
    from advkit.robustness.card import model_card
    from advkit.robustness.report import markdown_report

    results = {"n": 4, "norm": "linf", "eps": [8 / 255], "attacks": ["autoattack-quick"], "clean_accuracy": 1.0,
               "robust_accuracy": {f"{8 / 255:g}": {"autoattack-quick": 0.5, "worst_case": 0.5}}, "seconds": {},
               "warnings": []}
    assert "QUICK budget" in markdown_report(results, subset="the first 4 test points")
    card = model_card(results, "default", "cifar10", "the first 4 test points")
    assert card["autoattack_acc"] is None and "reduced budget" in card["note"] and card["eps"] == "8/255"
