"""Fuzzing untrusted files: random bytes as checkpoints and images must give a clean AdvkitError, never a crash."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advkit.data.images import load_image
from advkit.errors import AdvkitError
from advkit.runtime.checkpoint import load_checkpoint

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_checkpoint_bytes() -> bytes:
    buf = io.BytesIO()
    torch.save({"format": "advkit-checkpoint", "version": 1, "step": 0, "config": {}, "models": {}, "state": {"w": torch.zeros(3)},
                "optim": {}, "rng": {}, "extra": {}}, buf)
    return buf.getvalue()


VALID = _valid_checkpoint_bytes()


def _check_file(data: bytes, suffix: str, loader) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"x{suffix}"
        path.write_bytes(data)
        try:
            loader(path)
        except AdvkitError as e:
            assert "\n" not in e.message and e.message


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_as_checkpoint(data):
    _check_file(data, ".pt", load_checkpoint)


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.binary(min_size=1, max_size=64))
def test_corrupted_real_checkpoint(position, garbage):
    data = VALID[:position] + garbage + VALID[position + len(garbage):]
    _check_file(data, ".pt", load_checkpoint)


@FUZZ
@given(st.integers(0, len(VALID)))
def test_truncated_real_checkpoint(length):
    _check_file(VALID[:length], ".pt", load_checkpoint)


def _png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (9, 7), (10, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png_bytes()


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from([".png", ".jpg", ".bmp"]))
def test_random_bytes_as_image(data, suffix):
    _check_file(data, suffix, load_image)


@FUZZ
@given(st.integers(0, len(PNG)), st.binary(max_size=16))
def test_damaged_real_png(position, garbage):
    data = PNG[:position] + garbage + PNG[position + len(garbage):]
    _check_file(data, ".png", load_image)


def test_a_zip_that_is_not_a_torch_file_is_refused(tmp_path):
    path = tmp_path / "z.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    try:
        load_checkpoint(path)
    except AdvkitError as e:
        assert "truncated or corrupt" in e.message or "not an advkit" in e.message
    else:
        raise AssertionError("a zip that is not a checkpoint was accepted")
