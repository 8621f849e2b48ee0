"""Progress: every long phase moves a bar (per batch of an attack, per tile of a photo, per evaluation of advtrain's
report), and a bar written to a file or a pipe ends its line, so no output is glued to it."""

from __future__ import annotations

import subprocess
import sys

import torch
from torch import nn

from advkit.denoise.tiling import tiled_apply
from advkit.robustness import evaluate as evaluate_module
from advkit.robustness.evaluate import evaluate_robustness, strongest_attack_error


class Recorder:
    """A ``progress`` / ``track`` stand-in: records (description, total) per bar and counts the items it yields."""

    def __init__(self):
        self.bars: list[list] = []

    def __call__(self, iterable, total=None, description=""):
        bar = [description, total, 0]
        self.bars.append(bar)
        for item in iterable:
            bar[2] += 1
            yield item


def test_a_bar_written_to_a_file_ends_its_line(tmp_path):
    """`g_grad_norm 2.948advkit gan train` was a training bar's last figures line glued to the results table."""
    script = (
        "from advkit.runtime.progress import training_progress, track, stdout\n"
        "with training_progress(5, 'GANTrainer') as bar:\n"
        "    for i in range(5): bar.update(i + 1, g_grad_norm=2.948)\n"
        "stdout.print('advkit gan train')\n"
        "for _ in track(range(3), description='eval'): pass\n"
        "stdout.print('after the bar')\n"
        "for _ in track(range(3), description='tiles', transient=True): pass\n"
        "stdout.print('after a transient bar')\n")
    log = tmp_path / "log.txt"
    with open(log, "w") as f:  # stdout and stderr into one file, as `advkit ... > log 2>&1`
        subprocess.run([sys.executable, "-c", script], stdout=f, stderr=subprocess.STDOUT, check=True, timeout=120)
    lines = log.read_text().splitlines()
    assert "g_grad_norm 2.948" in lines and "advkit gan train" in lines, lines
    assert "after the bar" in lines and "after a transient bar" in lines, lines
    assert any(line.lstrip(" ").startswith("eval ") and "3/3" in line for line in lines), lines
    assert not any("tiles" in line for line in lines)  # a transient bar leaves nothing in a file
    assert "" not in lines  # and no blank line either


def test_tiles_move_the_bar_and_change_nothing():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1)).eval()
    image = torch.rand(1, 3, 70, 100)
    record = Recorder()
    out = tiled_apply(model, image, tile=32, margin=4, progress=record)
    assert record.bars == [["tiles", 12, 12]]  # rows 0, 32, 64 x columns 0, 32, 64, 96
    assert torch.equal(out, tiled_apply(model, image, tile=32, margin=4))


class AllZero(nn.Module):
    """Predicts class 0 for every input in [0, 1] (so every point with label 0 is attacked), differentiably."""

    def forward(self, x):
        mean = x.flatten(1).mean(1)
        return torch.stack([1 + 0 * mean, 0.1 * mean], dim=1)


def test_attacks_move_a_bar_per_batch(monkeypatch):
    monkeypatch.setattr(evaluate_module, "build_attack", lambda name, *args, **kw: (lambda x, y: x))
    x, y = torch.rand(10, 1, 4, 4), torch.zeros(10, dtype=torch.long)
    record = Recorder()
    evaluate_robustness(AllZero(), x, y, [0.1, 0.2], attacks=["fgsm", "pgd"], batch_size=4, diagnostics=False,
                        track=record)
    assert record.bars == [["eps=0.1 fgsm", 3, 3], ["eps=0.1 pgd", 3, 3],
                           ["eps=0.2 fgsm", 3, 3], ["eps=0.2 pgd", 3, 3]]  # 10 points, blocks of 4
    record = Recorder()
    strongest_attack_error(AllZero(), x, y, 0.1, quick=True, batch_size=5, track=record)
    assert record.bars == [["apgd-ce eps=0.1", 2, 2], ["apgd-t eps=0.1", 2, 2]]


def test_advtrain_reports_progress_before_and_after_training(cli, tmp_path):
    """The before/after evaluation (a minute and more at the defaults) moves a bar per attack, and every line of
    the results starts a line of its own (stdout and stderr to one file)."""
    log = tmp_path / "log.txt"
    args = ["advtrain", "--arch", "softmax", "--steps", "5", "--report-size", "100", "--report-pgd-steps", "2",
            "--report-strong-size", "20", "--quick", "--eval-size", "50", "--out", str(tmp_path / "run")]
    with open(log, "w") as f:
        subprocess.run([sys.executable, "-m", "advkit.cli.main", *args], stdout=f, stderr=subprocess.STDOUT,
                       timeout=600, check=True, env={**__import__("os").environ, "COLUMNS": "80"})
    lines = log.read_text().splitlines()
    for phase in ("before", "after"):
        for what in ("eps=0.25", "apgd-ce eps=0.25"):
            assert any(line.strip().startswith(f"{phase} {what} ") for line in lines), (phase, what, lines)
    assert any(line.startswith("advkit advtrain") for line in lines)
    assert not [line for line in lines if "advkit advtrain" in line and not line.startswith("advkit advtrain")]
    assert all(len(line) <= 80 for line in lines)


def test_defense_attacks_move_a_bar_per_batch():
    from advkit.defenses.evaluate import evaluate_defense

    class Identity(nn.Module):
        differentiable, randomized = True, False

        def forward(self, x):
            return x

    x, y = torch.rand(10, 1, 4, 4), torch.zeros(10, dtype=torch.long)
    record = Recorder()
    evaluate_defense(AllZero(), Identity(), x, y, 0.1, steps=1, batch_size=4, autoattack=False, track=record)
    assert [bar[0] for bar in record.bars] == ["[1/3] oblivious", "[2/3] white-box", "[3/3] bpda"]
    assert all(bar[1:] == [3, 3] for bar in record.bars)  # 10 points in batches of 4
