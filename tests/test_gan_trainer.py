"""The GAN trainer: Algorithm 1's schedule (counted), a two-step smoke run of every loss x arch, exact
resume after an interruption, and the `advkit gan` / `advkit eval gan` commands end to end."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from advkit.runtime.session import open_session
from advkit.errors import AdvkitError, TrainingInterrupted
from advkit.gan.loss_catalog import loss_names
from advkit.train.gan import GANTrainer
from advkit.train.gan_config import ARCHS, GANConfig

SMALL = dict(dataset="fake", batch_size=8, log_every=1, sample_every=2, checkpoint_every=3, eval_samples=64,
             grid=4, base_channels=8, hidden=16)


def _trainer(tmp_path, name, resume=None, **kw):
    config = GANConfig(**{**SMALL, "device": "cpu", **kw})
    session = open_session("gan-train", config, out=tmp_path / name, quiet=True, resume=resume)
    return GANTrainer(config, session), session


def _fit(tmp_path, name, resume=None, stop_after=None, **kw):
    trainer, session = _trainer(tmp_path, name, resume, **kw)
    try:
        if resume:
            trainer.resume(resume)
        if stop_after is not None:  # a Ctrl-C arriving during step `stop_after`
            step_fn = trainer.train_step

            def interrupted(step):
                if step + 1 == stop_after:
                    trainer._stop_requested = True
                return step_fn(step)

            trainer.train_step = interrupted
        trainer.fit()
    finally:
        session.run.close()
    return trainer


@pytest.mark.parametrize("k,g_steps", [(1, 1), (3, 1), (2, 2)])
def test_d_steps_k_makes_k_d_updates_per_g_update(tmp_path, k, g_steps):
    trainer, session = _trainer(tmp_path, "count", steps=4, d_steps=k, g_steps=g_steps)
    order = []
    for role in ("D", "G"):
        trainer.optimizers[role].register_step_post_hook(lambda opt, args, kwargs, role=role: order.append(role))
    trainer.fit()
    session.run.close()
    assert "".join(order) == ("D" * k + "G" * g_steps) * 4
    assert (trainer.d_updates, trainer.g_updates) == (4 * k, 4 * g_steps)


def test_wgan_defaults_five_critic_steps_rmsprop_and_clipping(tmp_path):
    trainer, session = _trainer(tmp_path, "wgan", steps=2, loss="wgan")
    trainer.fit()
    session.run.close()
    assert trainer.config.d_steps == 5 and trainer.d_updates == 10
    assert isinstance(trainer.optimizers["D"], torch.optim.RMSprop) and trainer.config.lr == 5e-5
    assert max(p.abs().max().item() for p in trainer.D.parameters()) <= 0.01 + 1e-7


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("loss", loss_names())
def test_two_step_smoke_run_of_every_loss_and_arch(tmp_path, arch, loss):
    extra = {"spectral_norm": True} if loss == "hinge" else {}
    if arch == "dcgan" and loss == "ns":
        extra = {"num_classes": 10, "ema": 0.9, "pack": 2}  # conditional + EMA + PacGAN on the way
    trainer = _fit(tmp_path, f"{arch}-{loss}", steps=2, arch=arch, loss=loss, d_steps=1, **extra)
    run = trainer.run.path
    results = trainer.results()
    assert results["steps"] == 2 and results["d_updates"] == 2 and results["loss"] == loss
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    logged = {k for line in lines for k in line}
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "diversity"} <= logged
    if loss in ("wgan", "wgan-gp"):
        assert "w_estimate" in logged
    assert (run / "images" / "step-00000002.png").exists() and (run / "checkpoints" / "step-00000002.pt").exists()
    assert list(run.glob("events.out.tfevents.*")), "TensorBoard events"


def _states(trainer):
    out = {f"model/{role}/{k}": v.clone() for role, m in trainer.models.items() for k, v in m.state_dict().items()}
    for role, opt in trainer.optimizers.items():
        for pid, state in opt.state_dict()["state"].items():
            for k, v in state.items():
                out[f"optim/{role}/{pid}/{k}"] = torch.as_tensor(v).clone()
    return out


@pytest.mark.parametrize("kw", [dict(arch="dcgan", loss="ns", ema=0.9, diffaugment="translation,cutout"),
                                dict(arch="mlp", loss="wgan-gp", d_steps=2, ema=0.5, num_classes=10)],
                         ids=["dcgan-ns-ema-diffaugment", "mlp-wgangp-cgan"])
def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path, kw):
    full = _fit(tmp_path, "full", steps=6, **kw)
    with pytest.raises(TrainingInterrupted):
        _fit(tmp_path, "part", steps=6, stop_after=4, **kw)  # Ctrl-C in step 4: checkpoint at step 4, exit
    resumed = _fit(tmp_path, "part", steps=6, resume=tmp_path / "part", **kw)
    assert (resumed.step, resumed.d_updates, resumed.g_updates) == (full.step, full.d_updates, full.g_updates)
    a, b = _states(full), _states(resumed)
    assert a.keys() == b.keys() and any(k.startswith("model/G_ema") for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert torch.equal(full.fixed_z, resumed.fixed_z)


def test_bad_options_teach_the_fix():
    with pytest.raises(AdvkitError, match="batch norm"):
        GANConfig(loss="wgan-gp", arch="dcgan", d_norm="batch")
    with pytest.raises(AdvkitError, match="multiple of --pack"):
        GANConfig(batch_size=10, pack=4)
    with pytest.raises(AdvkitError, match="--ema"):
        GANConfig(ema=1.0)
    with pytest.raises(AdvkitError, match="vector data"):
        GANConfig(dataset="ring", arch="dcgan")


def _invoke(*args):
    from advkit.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_train_sample_interpolate(tmp_path):
    run = tmp_path / "run"
    result = _invoke("gan", "train", "--dataset", "fake", "--arch", "dcgan", "--num-classes", "10", "--steps", "2",
                     "--batch-size", "8", "--base-channels", "8", "--eval-samples", "64", "--ema", "0.99",
                     "--device", "cpu", "--quiet", "--out", str(run))
    assert result.exit_code == 0, result.output
    result = _invoke("gan", "sample", "--ckpt", str(run), "--n", "9", "--label", "3", "--quiet", "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s" / "images" / "samples.png").exists()
    result = _invoke("gan", "interpolate", "--ckpt", str(run), "--rows", "2", "--steps", "4", "--quiet",
                     "--out", str(tmp_path / "i"))
    assert result.exit_code == 0, result.output
    from PIL import Image

    width, height = Image.open(tmp_path / "i" / "images" / "interpolation.png").size
    assert width > height  # 4 columns, 2 rows
    bad = _invoke("gan", "sample", "--ckpt", str(run), "--label", "12", "--out", str(tmp_path / "b"))
    assert bad.exit_code == 2 and "--label must be in [0, 9]" in bad.output


def test_cli_toy1d_writes_strip_and_gif(tmp_path):
    result = _invoke("gan", "toy1d", "--steps", "30", "--frames", "3", "--quiet", "--out", str(tmp_path / "t"))
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "t" / "results.json").read_text())
    assert {"d_gap", "d_star_gap", "g_mean", "g_std"} <= set(results["final"])
    from PIL import Image

    gif = Image.open(tmp_path / "t" / "images" / "toy1d.gif")
    assert gif.n_frames >= 3 and (tmp_path / "t" / "images" / "toy1d-strip.png").exists()


def test_eval_gan_reports_domain_metrics_beside_the_real_floor(tmp_path):
    from advkit.data import load_dataset

    try:
        load_dataset("mnist", "test", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")
    run = tmp_path / "mnist"
    result = _invoke("gan", "train", "--steps", "3", "--data-source", "offline", "--eval-samples", "200",
                     "--device", "cpu", "--quiet", "--out", str(run))
    assert result.exit_code == 0, result.output
    result = _invoke("eval", "gan", "--ckpt", str(run), "--n", "500", "--quiet", "--out", str(tmp_path / "e"))
    assert result.exit_code == 0, result.output
    domain = json.loads((tmp_path / "e" / "results.json").read_text())["domain"]
    # An untrained generator is far from the data; two real splits are close.
    assert domain["domain_fid"] > 10 * domain["real_floor_fid"] and domain["real_test_is"] > 8.5
    assert "not Inception" in domain["note"] and domain["classifier_test_accuracy"] > 0.95
    fake, floor = domain["metrics"]["fake"], domain["metrics"]["real_floor"]
    # Every metric sits beside the same metric for held-out real images; the real floor is near its ideal values.
    assert set(fake) == set(floor) >= {"fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage",
                                       "is_mean"}
    assert floor["coverage"] > 0.8 and fake["coverage"] < floor["coverage"] and fake["kid_mean"] > floor["kid_mean"]
    assert 0 < domain["metrics"]["is_ratio"] < 1
    assert "GAN part" in json.loads((run / "results.json").read_text())["data"]  # the classifier's images left out


def test_image_folder_dcgan_at_64px(tmp_path):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (80, 90, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    trainer = _fit(tmp_path, "folder", steps=2, arch="dcgan", dataset=str(folder), image_size=64)
    assert trainer.G(trainer.fixed_z).shape == (4, 3, 64, 64)
    assert trainer.results()["data"].startswith("images")


def test_collapse_alarm_on_vanishing_d_loss_and_on_low_diversity(tmp_path):
    trainer, session = _trainer(tmp_path, "alarm", steps=2, arch="dcgan", sample_every=1)
    trainer._check_discriminator(1, {"d_loss": 1e-5})
    trainer._check_discriminator(1, {"d_loss": 1e-5})  # once per --sample-every window, not every log step
    trainer._check_discriminator(1, {"d_loss": 0.7})
    assert len(trainer.alarms) == 1 and "D wins" in trainer.alarms[0]
    # An untrained DCGAN generator in eval mode emits near-identical images: the diversity alarm fires.
    figures = trainer.evaluate(1)
    session.run.close()
    assert figures["diversity"] < 0.5 and any("mode collapse" in a for a in trainer.alarms)
    logged = [json.loads(l) for l in (trainer.run.path / "metrics.jsonl").read_text().splitlines()]
    assert sum("collapse_alarm" in line for line in logged) == 2


def test_eval_gan_ring_and_stacked_mnist(tmp_path, monkeypatch):
    import functools

    import advkit.data.stacked_mnist as stacked
    from advkit.data import load_dataset

    # A smaller Stacked MNIST training set for a 2-step run (the default 25,600 triples take 240 MB).
    monkeypatch.setattr(stacked, "stacked_mnist", functools.partial(stacked.stacked_mnist, n=1024))

    result = _invoke("gan", "train", "--dataset", "ring", "--steps", "3", "--eval-samples", "100", "--quiet",
                     "--device", "cpu", "--out", str(tmp_path / "ring"))
    assert result.exit_code == 0, result.output
    result = _invoke("eval", "gan", "--ckpt", str(tmp_path / "ring"), "--n", "200", "--quiet", "--out", str(tmp_path / "re"))
    assert result.exit_code == 0, result.output
    ring = json.loads((tmp_path / "re" / "results.json").read_text())["ring"]
    assert ring["of"] == 8 and 0 <= ring["modes"] <= 8 and sum(ring["per_mode"]) <= 200
    try:
        load_dataset("mnist", "test", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")
    result = _invoke("gan", "train", "--dataset", "stacked-mnist", "--steps", "2", "--data-source", "offline",
                     "--eval-samples", "100", "--quiet", "--device", "cpu", "--out", str(tmp_path / "st"))
    assert result.exit_code == 0, result.output
    result = _invoke("eval", "gan", "--ckpt", str(tmp_path / "st"), "--n", "300", "--quiet", "--out", str(tmp_path / "se"))
    assert result.exit_code == 0, result.output
    domain = json.loads((tmp_path / "se" / "results.json").read_text())["domain"]
    assert domain["stacked_modes"] >= 1 and domain["stacked_modes"] <= 300
    assert domain["stacked_kl"] > 0 and domain["real_floor_fid"] < domain["domain_fid"]


def test_eval_gan_reference_is_resized_like_the_training_data():
    """A 32 px generator is scored against real images resized to 32 px, as `gan train` resized its data, so the
    resize itself adds nothing to the FID (the 32 px Stacked MNIST run: 194 against 28 px real images, 47 here)."""
    from advkit.gan.data import evaluation_reference
    from advkit.data import load_dataset
    from advkit.data.stacked_mnist import stacked_mnist

    try:
        mnist = load_dataset("mnist", "test", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")
    for dataset in ("mnist", "stacked-mnist"):
        test, floor_split = evaluation_reference(dataset, "offline", 32)
        assert test.images.shape[-2:] == floor_split.images.shape[-2:] == (32, 32)
        assert 0 <= test.images.min() and test.images.max() <= 1
    same = stacked_mnist(mnist, n=8, image_size=28)
    assert torch.equal(same.images, stacked_mnist(mnist, n=8).images), "28 px: no resize"


def test_ema_decay_warms_up_then_holds():
    from advkit.gan.ema import ema_decay

    # float64 closed forms (approx's 1e-6 is spare)
    assert ema_decay(1, 0.999) == pytest.approx(2 / 11)  # the first averages follow G closely ...
    assert ema_decay(100, 0.999) == pytest.approx(101 / 110)
    assert ema_decay(10 ** 6, 0.999) == 0.999  # ... then the asked-for decay


def test_ema_batch_norm_recalibration_is_private_and_does_not_touch_training(tmp_path):
    """The EMA sampler's batch-norm statistics are its own (not G's copies), computed without drawing from the
    training RNG: sampling every step and never give the same trained weights."""
    from advkit.gan.ema import recalibrate_batch_norm

    often = _fit(tmp_path, "often", steps=5, arch="dcgan", ema=0.9, sample_every=1, checkpoint_every=100)
    never = _fit(tmp_path, "never", steps=5, arch="dcgan", ema=0.9, sample_every=100, checkpoint_every=100)
    for role in ("G", "D"):
        for (name, a), b in zip(often.models[role].state_dict().items(), never.models[role].state_dict().values()):
            assert torch.equal(a, b), (role, name)
    G_ema, G = often.models["G_ema"], often.models["G"]
    bn = next(m for m in G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d))
    live = next(m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d))
    often.sampler  # noqa: B018 - the property recalibrates after the last update
    assert not torch.equal(bn.running_mean, live.running_mean)  # its own statistics, not G's
    first = bn.running_mean.clone()
    state = torch.random.get_rng_state()
    recalibrate_batch_norm(G_ema)
    assert torch.equal(bn.running_mean, first) and torch.equal(torch.random.get_rng_state(), state)
    assert not G_ema.training and bn.momentum == live.momentum


def test_cpu_bf16_trains_where_native_and_in_float32_with_a_warning_where_emulated(tmp_path, monkeypatch, capsys):
    from advkit.runtime import amp

    if amp.cpu_has_native_bf16():
        trainer = _fit(tmp_path, "bf16", steps=2, arch="dcgan", cpu_bf16=True)
        assert trainer._bf16 and all(torch.isfinite(p).all() for p in trainer.G.parameters())
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")  # a CPU without AVX512-BF16/AMX
    capsys.readouterr()
    assert not _fit(tmp_path, "emulated", steps=2, arch="dcgan", cpu_bf16=True)._bf16
    assert capsys.readouterr().err.count("--cpu-bf16: this CPU has no native bf16") == 1
    assert not _fit(tmp_path, "fp32", steps=2, arch="dcgan")._bf16  # the CPU default stays float32


def test_inception_fid_and_is_run_through_torch_fidelity_with_a_weights_file(tmp_path):
    """The paper-comparable path: `eval gan --inception-weights FILE` hands the samples and the real test split to
    torch-fidelity. Real Inception weights cannot be downloaded here, so a randomly initialised InceptionV3 of
    torch-fidelity's own layout stands in: this checks the plumbing (file -> torch-fidelity -> results.json),
    not the values, which torch-fidelity itself matches to TensorFlow's."""
    pytest.importorskip("torch_fidelity")
    from unittest import mock

    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    torch.save({}, tmp_path / "empty.pt")
    with mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None):
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                          feature_extractor_weights_path=str(tmp_path / "empty.pt"))
    torch.save(net.state_dict(), tmp_path / "inception.pt")
    run = tmp_path / "run"
    result = _invoke("gan", "train", "--dataset", "fake", "--arch", "dcgan", "--steps", "2", "--batch-size", "8",
                     "--base-channels", "8", "--eval-samples", "100", "--device", "cpu", "--quiet", "--out", str(run))
    assert result.exit_code == 0, result.output
    result = _invoke("eval", "gan", "--ckpt", str(run), "--n", "100", "--inception-weights", str(tmp_path / "inception.pt"),
                     "--device", "cpu", "--quiet", "--out", str(tmp_path / "e"))
    assert result.exit_code == 0, result.output
    inception = json.loads((tmp_path / "e" / "results.json").read_text())["inception"]
    from advkit.data.paths import portable_path  # results.json records paths of no one machine

    assert inception["fid"] >= 0 and inception["is"] >= 1
    assert inception["weights"] == portable_path(tmp_path / "inception.pt")


@pytest.mark.parametrize("share_fake, g_forwards", [(False, 2), (True, 1)])
def test_g_step_draws_fresh_noise_as_algorithm_1_unless_share_fake(tmp_path, share_fake, g_forwards):
    trainer, session = _trainer(tmp_path, f"share{share_fake}", steps=1, d_steps=1, share_fake=share_fake)
    calls = []
    trainer.G.register_forward_hook(lambda module, args, out: calls.append(args[0].detach().clone()))
    trainer.train_step(0)
    session.run.close()
    assert len(calls) == g_forwards  # D phase + a fresh G phase, or one shared batch
    if not share_fake:
        assert not torch.equal(calls[0], calls[1])  # the G step's z is a new draw


def test_ttur_and_linear_decay_set_each_optimizer_rate(tmp_path):
    trainer, session = _trainer(tmp_path, "ttur", steps=4, lr=4e-4, d_lr=1e-4, lr_decay="linear")
    assert trainer.config.d_lr == 1e-4 and GANConfig(lr=3e-4).d_lr == 3e-4  # default: D follows --lr
    trainer.train_step(2)  # step 2 of 4: half way down the linear decay
    session.run.close()
    # the schedule's float64 arithmetic: a few roundings
    assert trainer.optimizers["G"].param_groups[0]["lr"] == pytest.approx(2e-4)
    assert trainer.optimizers["D"].param_groups[0]["lr"] == pytest.approx(5e-5)


def test_gaussian_prior_and_truncation():
    from advkit.models.registry import build_model

    G = build_model("mlp-g", {"z_dim": 16, "prior": "gaussian"})
    z = G.noise(500, torch.Generator().manual_seed(0), truncation=0.5)
    assert z.abs().max() <= 0.5 and z.std() > 0.2
    with pytest.raises(AdvkitError, match="gaussian prior"):
        build_model("mlp-g", {"z_dim": 16}).noise(4, truncation=0.5)


def test_stacked_triples_sets_the_training_set_size():
    """--stacked-triples N: D trains on N triples of the GAN part's digits (25,600 by default, as PacGAN)."""
    from advkit.data import load_dataset
    from advkit.data.stacked_mnist import PACGAN_TRIPLES
    from advkit.gan.data import training_data

    try:
        load_dataset("mnist", "train", "offline")
    except AdvkitError as e:
        pytest.skip(f"offline MNIST absent: {e}")
    assert GANConfig(dataset="stacked-mnist").stacked_triples == 25_600 == PACGAN_TRIPLES  # one default everywhere
    data, reference, _ = training_data(GANConfig(dataset="stacked-mnist", data_source="offline", arch="dcgan",
                                                 stacked_triples=300), torch.device("cpu"))
    assert len(data) == 300 and reference.shape[1:] == (3, 28, 28)
    with pytest.raises(AdvkitError, match="--stacked-triples"):
        GANConfig(dataset="stacked-mnist", stacked_triples=0)
    with pytest.raises(AdvkitError, match="--stacked-triples .* drop it"):  # not silently ignored elsewhere
        GANConfig(dataset="mnist", stacked_triples=1000)
