"""Every mistake a user can make gets one line that says what to fix, exit code 2, no traceback, nothing overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from advkit.cli.main import main


def run(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.err


def assert_one_line_error(capsys, args, expect: str | None = None):
    code, err = run(capsys, *args)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (args, code, err)
    assert len(lines) == 1 and lines[0].startswith("Error:"), (args, err)
    if expect:
        assert expect.lower() in lines[0].lower(), (args, lines[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    rgb = np.random.default_rng(0).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(d / "ok.png")
    (d / "text.png").write_text("hello, not a png")
    Image.fromarray(rgb).save(d / "full.jpg")
    (d / "cut.jpg").write_bytes((d / "full.jpg").read_bytes()[:200])
    alpha = np.concatenate([rgb, np.zeros((28, 28, 1), np.uint8)], axis=2)
    Image.fromarray(alpha, "RGBA").save(d / "alpha.png")
    (d / "empty.pt").write_bytes(b"")
    (d / "garbage.pt").write_bytes(b"\x80\x04garbage")
    torch.save({"format": "advkit-checkpoint", "version": 99}, d / "future.pt")
    torch.save({"weights": torch.zeros(3)}, d / "foreign.pt")
    (d / "recipe-unknown.toml").write_text("not-an-option = 3\n")
    (d / "recipe-type.toml").write_text('steps = "many"\n')
    (d / "recipe-bad.toml").write_text("steps = = 3\n")
    (d / "afile").write_text("x")
    return {p.name: p for p in d.iterdir()} | {"dir": d}


CASES = [
    # numbers
    (["fgsm", "--eps", "-0.1"], "eps"),
    (["fgsm", "--eps", "nan"], "eps"),
    (["fgsm", "--eps", "1.5"], "eps"),
    (["fgsm", "--eps", "abc"], "eps"),
    (["advtrain", "--alpha", "1.5", "--steps", "1"], "alpha"),
    (["advtrain", "--alpha", "-0.1", "--steps", "1"], "alpha"),
    (["advtrain", "--eps", "-1", "--steps", "1"], "eps"),
    (["advtrain", "--steps", "0"], "steps"),
    (["advtrain", "--batch-size", "0", "--steps", "1"], "batch-size"),
    (["advtrain", "--lr", "-0.1", "--steps", "1"], "lr"),
    (["gan", "train", "--d-steps", "-1", "--steps", "1"], "d-steps"),
    (["gan", "train", "--batch-size", "0"], "batch-size"),
    (["gan", "train", "--steps", "-5"], "steps"),
    (["gan", "train", "--lr", "-1"], "lr"),
    (["gan", "train", "--loss", "nope"], "loss"),
    (["gan", "train", "--dataset", "no-such-dataset", "--steps", "1"], "dataset"),
    (["denoise", "train", "--noise-std", "-5", "--steps", "1"], "noise-std"),
    (["denoise", "train", "--steps", "0"], "steps"),
    (["denoise", "train", "--batch-size", "-2", "--steps", "1"], "batch-size"),
    # devices
    (["fgsm", "--device", "tpu"], "--device"),
    (["gan", "train", "--device", "cuda:7", "--steps", "1"], "cuda"),
]


@pytest.mark.parametrize("args,expect", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_numbers_and_choices(capsys, tmp_path, args, expect):
    if "cuda" in " ".join(args) and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    assert_one_line_error(capsys, [*args, "--out", str(tmp_path / "run")], expect)


IMAGE_CASES = [("missing.png", "does not exist"), ("dir", "directory"), ("text.png", "not an image"),
               ("cut.jpg", "truncated"), ("alpha.png", "transparent")]


@pytest.mark.parametrize("name,expect", IMAGE_CASES)
def test_bad_images(capsys, files, tmp_path, name, expect):
    path = files.get(name, files["dir"] / name)
    assert_one_line_error(capsys, ["fgsm", "--image", str(path), "--out", str(tmp_path / "r")], expect)
    if name != "alpha.png":  # denoise apply keeps an alpha channel as it was (tests/test_denoise_images.py)
        assert_one_line_error(capsys, ["denoise", "apply", str(path), "--out", str(tmp_path / "d")], expect)


CKPT_CASES = [("missing.pt", "does not exist"), ("empty.pt", "not an advkit checkpoint"),
              ("garbage.pt", "truncated or corrupt; re-download or re-export it"),
              ("future.pt", "version 99"), ("foreign.pt", "not an advkit checkpoint")]


@pytest.mark.parametrize("name,expect", CKPT_CASES)
def test_bad_checkpoints(capsys, files, tmp_path, name, expect):
    path = str(files.get(name, files["dir"] / name))
    for args in (["fgsm", "--model", path], ["gan", "sample", "--ckpt", path], ["eval", "gan", "--ckpt", path],
                 ["denoise", "eval", "--ckpt", path, "--set", str(files["dir"])]):
        assert_one_line_error(capsys, [*args, "--out", str(tmp_path / "r")], expect)


def test_checkpoint_of_another_command_is_refused(capsys, tmp_path):
    """A GAN checkpoint given to `advkit fgsm --model` (another architecture) is refused with one line."""
    from advkit.gan.models import MLPDiscriminator, MLPDiscriminatorConfig, MLPGenerator, MLPGeneratorConfig
    from advkit.runtime.checkpoint import save_checkpoint

    G, D = MLPGenerator(MLPGeneratorConfig(z_dim=4, hidden=8)), MLPDiscriminator(MLPDiscriminatorConfig(hidden=8))
    save_checkpoint(tmp_path / "gan.pt", step=1, config={}, models={"G": G, "D": D})
    assert_one_line_error(capsys, ["fgsm", "--model", str(tmp_path / "gan.pt"), "--out", str(tmp_path / "r")])
    assert_one_line_error(capsys, ["denoise", "apply", str(tmp_path / "gan.pt"), "--ckpt", str(tmp_path / "gan.pt"),
                                   "--out", str(tmp_path / "r2")])


def test_shipped_model_and_own_checkpoint_are_one_choice(capsys, tmp_path):
    from advkit.denoise.inference import shipped_checkpoint

    ckpt = str(shipped_checkpoint())
    assert_one_line_error(capsys, ["denoise", "apply", ckpt, "--ckpt", ckpt, "--model", "fast", "--out",
                                   str(tmp_path / "r")], "pass one")
    assert_one_line_error(capsys, ["denoise", "apply", ckpt, "--model", "tiny", "--out", str(tmp_path / "r")],
                          "--model")


def test_denoiser_checkpoint_is_refused_by_gan_commands(capsys, tmp_path):
    """The shipped denoiser also stores its generator as role "G": the GAN commands name it, not crash on it."""
    from advkit.denoise.inference import shipped_checkpoint

    ckpt = str(shipped_checkpoint())
    for i, args in enumerate((["gan", "sample"], ["gan", "interpolate"], ["eval", "gan"])):
        assert_one_line_error(capsys, [*args, "--ckpt", ckpt, "--device", "cpu", "--out", str(tmp_path / f"r{i}")],
                              "not a GAN generator")


@pytest.mark.parametrize("name,expect", [("recipe-unknown.toml", "unknown key"), ("recipe-type.toml", "many"),
                                         ("recipe-bad.toml", "not valid toml"), ("nope.toml", "does not exist")])
def test_bad_recipes(capsys, files, tmp_path, name, expect):
    path = str(files.get(name, files["dir"] / name))
    assert_one_line_error(capsys, ["gan", "train", "--recipe", path, "--out", str(tmp_path / "r")], expect)


def test_unwritable_out(capsys, files):
    assert_one_line_error(capsys, ["linear", "--out", str(files["afile"] / "sub")], "--out")


def test_bad_input_overwrites_nothing(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text('{"keep": true}')
    assert_one_line_error(capsys, ["gan", "train", "--batch-size", "0", "--out", str(out)])
    assert_one_line_error(capsys, ["advtrain", "--alpha", "2", "--steps", "1", "--out", str(out)])
    assert json.loads((out / "config.json").read_text()) == {"keep": True}


def test_missing_dataset_names_what_provides_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path / "nodata"))
    from advkit.data import load_dataset

    assert len(load_dataset("mnist", "test")) == 10_000  # the offline MNIST ships in the package: never missing
    assert_one_line_error(capsys, ["gan", "train", "--dataset", "stl10", "--steps", "1", "--out", str(tmp_path / "s")],
                          "advkit data fetch stl10")


def test_corrupt_vendored_mnist_is_reported(capsys, tmp_path, monkeypatch):
    (tmp_path / "mnist").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-5k.csv.gz"):
        (tmp_path / "mnist" / name).write_bytes(b"\x1f\x8bcorrupt")
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    assert_one_line_error(capsys, ["fgsm", "--dataset", "mnist", "--out", str(tmp_path / "r")], "advkit data verify")
    assert_one_line_error(capsys, ["data", "verify"], "failed verification")
