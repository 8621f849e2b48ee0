"""Every file advkit writes (checkpoints, shard blocks, certified points, JSON, figures) goes through one atomic
writer: the old file or the whole new one, never a part, and no temporary left behind."""

from __future__ import annotations

import os

import pytest

from advkit.runtime.atomic import atomic_file, file_mode


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "results.json"
    with atomic_file(target, "w") as f:
        f.write("old")
    with pytest.raises(RuntimeError):
        with atomic_file(target, "w") as f:
            f.write("half of the new")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # the temporary is gone


def test_new_file_folders_and_permissions(tmp_path):
    target = tmp_path / "deep" / "er" / "block.pt"
    with atomic_file(target) as f:
        f.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert target.stat().st_mode & 0o777 == file_mode()  # as open() makes files, not mkstemp's 0600


def test_only_whole_file_modes():
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"):
        with atomic_file(os.devnull, "a"):
            pass


def test_figures_are_written_whole_in_the_suffix_format(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from advkit.runtime.grids import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = save_figure(fig, tmp_path / "curve.png")
    fig, _ = plt.subplots()
    pdf = save_figure(fig, tmp_path / "curve.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.pdf", "curve.png"]
