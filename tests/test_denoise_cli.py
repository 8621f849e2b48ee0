"""`advkit denoise train|eval|apply|export` end to end on real photos (crops of scikit-image's samples)."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from advkit.runtime.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def few_images(sample_data_root, tmp_path_factory):
    """3 training images and 2 test images of the sample sets, copied."""
    denoise_sets = sample_data_root / "denoise"
    root = tmp_path_factory.mktemp("denoise")
    train, test = root / "train", root / "test"
    train.mkdir()
    test.mkdir()
    for f in sorted((denoise_sets / "CBSD432").iterdir())[:3]:
        shutil.copy(f, train)
    for f in sorted((denoise_sets / "CBSD68").iterdir())[:2]:
        shutil.copy(f, test)
    return train, test


def test_two_step_training_smoke_run_then_resume(cli, few_images, tmp_path):
    train, test = few_images
    out = tmp_path / "run"
    common = ["denoise", "train", "--data", str(train), "--val", str(test), "--val-images", "1", "--crop", "48",
              "--batch-size", "4", "--width", "8", "--d-width", "8", "--sample-every", "2", "--device", "cpu",
              "--quiet", "--out", str(out)]
    result = cli(*common, "--steps", "2")
    assert result.exit_code == 0, result.output
    payload = load_checkpoint(out / "checkpoints" / "step-00000002.pt")
    assert set(payload["models"]) == {"G", "D"} and payload["step"] == 2
    assert payload["models"]["D"]["args"]["conditional"] is True
    results = json.loads((out / "results.json").read_text())
    assert np.isfinite(results["loss_g"]) and 10 < results["val_psnr"] < 40
    grid = Image.open(out / "images" / "step-00000002.png")
    assert grid.size[1] > grid.size[0] * 3 / 8 * 0.9  # 3 rows (noisy | denoised | clean) of 8 crops
    result = cli(*common, "--steps", "3", "--resume", str(out))
    assert result.exit_code == 0, result.output
    assert load_checkpoint(out / "checkpoints" / "step-00000003.pt")["step"] == 3


def test_content_only_builds_no_discriminator(cli, few_images, tmp_path):
    train, _ = few_images
    result = cli("denoise", "train", "--data", str(train), "--crop", "32", "--batch-size", "2", "--width", "8",
                 "--steps", "1", "--adv-weight", "0", "--device", "cpu", "--quiet", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert set(load_checkpoint(tmp_path / "r" / "checkpoints" / "step-00000001.pt")["models"]) == {"G"}


def test_both_weights_zero_is_one_line_error(cli, tmp_path):
    result = cli("denoise", "train", "--content-weight", "0", "--adv-weight", "0", "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "nothing to train" in result.stderr and "Traceback" not in result.output


def test_eval_table_noisy_psnr_matches_scikit_image(cli, few_images, tmp_path):
    from skimage.metrics import peak_signal_noise_ratio

    from advkit.data.images import load_image
    from advkit.denoise.noise import add_noise, image_seed

    _, test = few_images
    out = tmp_path / "eval"
    result = cli("denoise", "eval", "--set", str(test), "--noise-std", "50", "--baselines", "wavelet,tv",
                 "--device", "cpu", "--quiet", "--out", str(out))
    assert result.exit_code == 0, result.output
    expected = []
    for f in sorted(test.iterdir()):
        clean = load_image(f)
        noisy = add_noise(clean, 50, seed=image_seed(0, f.name))
        expected.append(peak_signal_noise_ratio(clean.numpy().astype(np.float64), noisy.numpy().astype(np.float64),
                                                data_range=1.0))
    mean = float(np.mean(expected))
    printed = re.search(r"^ *noisy +([\d.]+) ", result.stdout, re.M)  # the mean table's noisy row
    # the table prints 2 decimals: rounding <= 0.005, plus float32 PSNR (~1e-5)
    assert printed and float(printed.group(1)) == pytest.approx(mean, abs=0.006), result.stdout
    report = json.loads((out / "results.json").read_text())["sets"][0]
    # the same float64 PSNR of the same noisy pixels: equal up to float64 rounding
    assert report["mean"]["noisy"]["psnr"] == pytest.approx(mean, abs=1e-9)
    assert report["methods"] == ["noisy", "advkit", "wavelet", "tv"]
    # The shipped model beats the noisy input and the classical baselines measured in the same run.
    assert report["mean"]["advkit"]["psnr"] > max(report["mean"][m]["psnr"] for m in ("noisy", "wavelet", "tv"))
    assert "| advkit |" in (out / "results.md").read_text()


def test_apply_keeps_size_and_export_makes_a_loadable_small_checkpoint(cli, tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (37, 51, 3), dtype=np.uint8)).save(tmp_path / "odd.png")
    result = cli("denoise", "apply", str(tmp_path / "odd.png"), "--out", str(tmp_path / "den"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "den" / "odd-denoised.png").size == (51, 37)
    from advkit.denoise.inference import shipped_checkpoint

    result = cli("denoise", "export", "--ckpt", str(shipped_checkpoint()), "--out", str(tmp_path / "exp"), "--name",
                 "g.pt", "--no-half")
    assert result.exit_code == 0, result.output
    payload = load_checkpoint(tmp_path / "exp" / "g.pt")
    assert set(payload["models"]) == {"G"} and not payload["optim"]
    assert payload["state"]["G"]["tail.weight"].dtype == torch.float32


def test_stl10_training_source_reads_the_binary_files(tmp_path, monkeypatch):
    """`--data stl10` goes through the foundation's STL-10 parser (column-major 3x96x96 uint8 records)."""
    from advkit.train.denoise import training_crops

    images = np.random.default_rng(0).integers(0, 256, (3, 3, 96, 96), dtype=np.uint8)  # [N, C, H, W]
    (tmp_path / "stl10_binary").mkdir()
    images.transpose(0, 1, 3, 2).tofile(tmp_path / "stl10_binary" / "train_X.bin")  # stored column-major
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    crops = training_crops("stl10", 96, torch.device("cpu"))
    assert torch.equal(crops.stack, torch.from_numpy(images))
    batch = crops.sample(5, torch.Generator().manual_seed(0))
    assert batch.shape == (5, 3, 96, 96) and 0 <= batch.min() and batch.max() <= 1


def test_amp_runs_float32_with_one_warning_where_bf16_would_be_emulated(few_images, tmp_path, monkeypatch, capsys):
    """A CPU without AVX512-BF16/AMX (simulated with torch's own switch): --amp degrades to float32, said once."""
    from click.testing import CliRunner

    from advkit.cli.main import cli

    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    _, test = few_images
    images = sorted(test.iterdir())[:2]
    for args in (["eval", "--set", str(test), "--baselines", "none", "--limit", "2"], ["apply", *map(str, images)]):
        result = CliRunner().invoke(cli, ["denoise", *args, "--amp", "--device", "cpu", "--out", str(tmp_path / args[0])])
        said = result.output + capsys.readouterr().err
        assert result.exit_code == 0, said
        assert said.count("no native bf16") == 1 and "running in float32" in said, said
    assert json.loads((tmp_path / "eval" / "results.json").read_text())["precision"] == "float32"
    assert len(list((tmp_path / "apply").glob("*-denoised.png"))) == 2


def test_eval_amp_records_its_precision(cli, few_images, tmp_path):
    from advkit.runtime.amp import cpu_has_native_bf16

    if not cpu_has_native_bf16():
        pytest.skip("this CPU has no native bf16 (AVX512-BF16/AMX): --amp runs float32 here (tested above)")
    _, test = few_images
    result = cli("denoise", "eval", "--set", str(test), "--baselines", "none", "--amp", "--limit", "1",
                 "--device", "cpu", "--quiet", "--out", str(tmp_path / "amp"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "amp" / "results.json").read_text())["precision"] == "bfloat16 autocast"


def test_cpu_bf16_training_step_where_bf16_is_native(cli, few_images, tmp_path):
    from advkit.runtime.amp import cpu_has_native_bf16

    if not cpu_has_native_bf16():
        pytest.skip("this CPU has no native bf16 (AVX512-BF16/AMX): --cpu-bf16 trains in float32 here")
    train, test = few_images
    result = cli("denoise", "train", "--data", str(train), "--val", str(test), "--val-images", "1", "--crop", "48",
                 "--batch-size", "4", "--width", "8", "--d-width", "8", "--steps", "2", "--cpu-bf16", "--device",
                 "cpu", "--quiet", "--out", str(tmp_path / "bf16"))
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "bf16" / "results.json").read_text())
    assert np.isfinite(results["loss_g"]) and 10 < results["val_psnr"] < 40


def test_apply_by_default_estimates_sigma_and_keeps_grey_grey(cli, tmp_path):
    """No --model: the shipped blind pair; sigma estimated per image and printed; grey in, grey out."""
    from fixtures_images import sample_crops

    rng = np.random.default_rng(0)
    noisy = np.clip(sample_crops(1, 96, grey=True)[0] + rng.normal(0, 25, (96, 96)), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "grey.png")
    result = cli("denoise", "apply", str(tmp_path / "grey.png"), "--out", str(tmp_path / "out"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    denoised = Image.open(tmp_path / "out" / "grey-denoised.png")
    assert denoised.mode == "L" and denoised.size == (96, 96)
    sigma = float(re.search(r"sigma ([\d.]+), estimated", result.stdout).group(1))
    assert 20 < sigma < 30
