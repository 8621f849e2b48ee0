"""No tracked file names a path of one machine: what the repository records (README, docs, reports, recipes, code,
shipped checkpoints) must hold on a user's machine, so data is ``$ADVKIT_DATA/...`` and runs are ``runs/...``.

Recorders make their paths portable with :func:`advkit.data.paths.portable` (checked here on examples), and this
test reads every file ``git ls-files`` lists (binary files too: a checkpoint stores its training config).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from advkit.data.paths import portable, portable_path

ROOT = Path(__file__).resolve().parents[1]
# Absolute paths of a machine (a work or home folder, a temporary folder recorded as a path, a Windows drive) and
# the relative link to a shared data folder beside one machine's checkout. In pieces, so this file does not match.
MACHINE_PATH = re.compile(
    "(?<![\\w.$~-])(" + "|".join([
        "/" + "work/", "/" + "root/", "/" + "home/[a-z_][\\w.-]*/", "/" + "Users/[\\w.-]+/", "/" + "tmp/[\\w.-]+/",
        "[A-Z]:\\\\" + "(Users|work)", "\\.\\./" + "shared"]) + ")")


def _tracked() -> list[Path]:
    try:
        names = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True,
                               timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.SubprocessError):
        pytest.skip("not a git checkout (an installed package): nothing tracked to read")
    return [ROOT / n for n in names if n and (ROOT / n).is_file()]


def test_no_tracked_file_names_a_machine_path():
    found = []
    for path in _tracked():
        text = path.read_bytes().decode("latin-1")  # binary files too: one byte one character, nothing fails
        for match in MACHINE_PATH.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {text[match.start():match.start() + 60]!r}")
    assert not found, f"{len(found)} machine paths (use runs/... or $ADVKIT_DATA/...):\n" + "\n".join(found[:40])


def test_the_pattern_finds_what_it_must_and_nothing_else():
    bad = ["--out /" "work/runs/x", "../" "shared/data/denoise/CBSD68", "/" "home/alice/data", "/" "Users/bob/x",
           "saved to /" "tmp/abc/run", "C:\\" "Users\\x", "/" "root/.cache/x"]
    good = ["runs/x", "$ADVKIT_DATA/denoise/CBSD68", "~/advkit-data", "https://example.org/" "work/x", "docs/results/x.md",
            "a/tmp/b", "/" "tmp"]
    assert all(MACHINE_PATH.search(s) for s in bad), [s for s in bad if not MACHINE_PATH.search(s)]
    assert not any(MACHINE_PATH.search(s) for s in good), [s for s in good if MACHINE_PATH.search(s)]


def test_recorded_paths_are_portable(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("ADVKIT_DATA", str(data))
    monkeypatch.chdir(tmp_path)
    assert portable_path(data / "denoise" / "CBSD68") == "$ADVKIT_DATA/denoise/CBSD68"
    assert portable_path(tmp_path / "runs" / "gan1") == "runs/gan1"       # under the working directory
    assert portable_path("runs/gan1/checkpoints/final.pt") == "runs/gan1/checkpoints/final.pt"  # relative: as is
    assert portable_path("/elsewhere/runs/gan1/report.md") == "/elsewhere/runs/gan1/report.md"  # where it is
    assert portable_path("/elsewhere/runs/gan1/report.md", strict=True) == "runs/gan1/report.md"  # a repo record
    assert portable_path("/elsewhere/model.pt", strict=True) == "model.pt"
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert portable_path("../data/denoise/Kodak24") == "$ADVKIT_DATA/denoise/Kodak24"
    record = {"command": f"advkit denoise eval --data {data}/denoise/CBSD68,{data}/denoise/Kodak24 --out=/x/runs/e",
              "runs": [str(tmp_path / "sub" / "r0")], "url": "https://example.org/a/b", "eps": [0.1, 0.3],
              "purifier": f"denoiser:{tmp_path}/sub/runs/d/best.pt", "note": "PSNR 28.9 dB, 1/2 of the set"}
    assert portable(record, strict=True) == {
        "command": "advkit denoise eval --data $ADVKIT_DATA/denoise/CBSD68,$ADVKIT_DATA/denoise/Kodak24 --out=runs/e",
        "runs": ["r0"], "url": "https://example.org/a/b", "eps": [0.1, 0.3],
        "purifier": "denoiser:runs/d/best.pt", "note": "PSNR 28.9 dB, 1/2 of the set"}
    monkeypatch.chdir("/")
    assert portable_path(Path.home() / "x") == "~/x"
