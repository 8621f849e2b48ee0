"""The GAN trainer's sync-free step: figures only on log steps, the deferred NaN guard, EMA with multi-tensor
kernels, and `--compile` (a CPU run of the same code paths the GPU takes; no timing here)."""

from __future__ import annotations

import copy
import shutil

import pytest
import torch

from advkit.runtime.session import open_session
from advkit.errors import NonFiniteLoss
from advkit.models.registry import build_model, model_spec
from advkit.runtime.checkpoint import latest_checkpoint, load_checkpoint
from advkit.gan.ema import ema_pairs, ema_update
from advkit.train.gan import GANTrainer
from advkit.train.gan_config import GANConfig

SMALL = dict(dataset="fake", batch_size=8, sample_every=100, checkpoint_every=100, eval_samples=64, grid=4,
             base_channels=8, hidden=16)


def _trainer(tmp_path, name, **kw):
    config = GANConfig(**{**SMALL, "device": "cpu", **kw})
    session = open_session("gan-train", config, out=tmp_path / name, quiet=True)
    return GANTrainer(config, session), session


def test_figures_only_on_log_steps_and_logging_does_not_change_training(tmp_path):
    sparse, session = _trainer(tmp_path, "sparse", steps=6, log_every=3, arch="dcgan", ema=0.9)
    returned = [sparse.train_step(step) for step in range(6)]
    session.run.close()
    assert [bool(f) for f in returned] == [False, False, True, False, False, True]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"} <= set(returned[2])
    assert sparse.deferred_non_finite() == {}  # finite losses: nothing to report, and the sums restart
    assert sparse._unchecked is None and float(sparse._loss_sums.abs().sum()) == 0.0
    dense, session = _trainer(tmp_path, "dense", steps=6, log_every=1, arch="dcgan", ema=0.9)
    for step in range(6):
        dense.train_step(step)
    session.run.close()
    for role in ("G", "D", "G_ema"):
        a, b = sparse.models[role].state_dict(), dense.models[role].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), role


def _poison_before(trainer, step_index):
    """From step `step_index` on, G's output layer holds NaN: every later loss is NaN."""
    step_fn = trainer.train_step

    def poisoned(step):
        if step == step_index:
            with torch.no_grad():
                next(iter(trainer.G.parameters())).fill_(float("nan"))
        return step_fn(step)

    trainer.train_step = poisoned


def test_deferred_nan_guard_stops_at_the_next_checked_step_and_keeps_the_good_checkpoint(tmp_path):
    trainer, session = _trainer(tmp_path, "nan", steps=20, log_every=5, checkpoint_every=4)
    _poison_before(trainer, 5)  # step 6 (1-based) is the first non-finite one; step 8 checkpoints
    with pytest.raises(NonFiniteLoss, match=r"step 8: d_loss \(first non-finite at a step in 6-8\) is nan"):
        trainer.fit()
    session.run.close()
    payload = load_checkpoint(latest_checkpoint(tmp_path / "nan"))
    assert payload["step"] == 4
    assert all(torch.isfinite(v).all() for v in payload["state"]["G"].values())


def test_ctrl_c_on_an_unlogged_step_checks_before_saving(tmp_path):
    trainer, session = _trainer(tmp_path, "stop", steps=20, log_every=10, checkpoint_every=100)
    _poison_before(trainer, 2)
    step_fn = trainer.train_step

    def interrupted(step):
        if step == 3:
            trainer._stop_requested = True  # what the SIGINT handler does
        return step_fn(step)

    trainer.train_step = interrupted
    with pytest.raises(NonFiniteLoss, match="step 4: d_loss"):
        trainer.fit()
    session.run.close()
    assert latest_checkpoint(tmp_path / "stop") is None  # no checkpoint of NaN weights


def test_ema_update_is_the_moving_average_and_copies_buffers():
    model = build_model("dcgan-g", {"base_channels": 8})
    ema = copy.deepcopy(model)
    before = [p.clone() for p in ema.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
        model.project[1].running_mean.fill_(3.0)
    ema_update(*ema_pairs(ema, model), 0.9)
    for old, new, target in zip(before, ema.parameters(), model.parameters()):
        # the EMA's in-place lerp vs the formula: one or two roundings (float32 defaults)
        torch.testing.assert_close(new, 0.9 * old + 0.1 * target)
    assert torch.equal(ema.project[1].running_mean, model.project[1].running_mean)


@pytest.fixture
def inductor():
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("torch.compile's CPU backend (inductor) needs a C compiler; none on PATH")
    try:
        from torch._inductor.utils import fresh_inductor_cache
    except Exception as e:  # noqa: BLE001 - any failure means "inductor unusable here"
        pytest.skip(f"torch.compile's inductor backend does not import here: {type(e).__name__}: {str(e)[:100]}")
    # A private, empty kernel cache for the test: inductor's default one (/tmp/torchinductor_$USER) is shared by
    # every process on the machine, and a kernel there that a concurrent compile half-wrote aborts the interpreter
    # ("Fatal Python error: Aborted" inside a cached kernel, seen with five test runs sharing one machine).
    with fresh_inductor_cache():
        yield


def test_compile_option_compiles_in_place_and_trains_a_step(tmp_path, inductor):
    # wgan-gp differentiates D twice (the gradient penalty), which compiled graphs do not support: D stays eager.
    trainer, session = _trainer(tmp_path, "gp", steps=1, compile=True, loss="wgan-gp")
    session.run.close()
    assert trainer.G._compiled_call_impl is not None and trainer.D._compiled_call_impl is None
    # ns: both compiled, D frozen and unfrozen within the step (a second graph), one step trains.
    trainer, session = _trainer(tmp_path, "ns", steps=1, log_every=1, compile=True, loss="ns")
    before = [p.clone() for p in trainer.D.parameters()]
    figures = trainer.train_step(0)
    session.run.close()
    assert trainer.D._compiled_call_impl is not None
    assert figures and all(torch.isfinite(torch.tensor(v)) for v in figures.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.D.parameters()))
    # Compiled in place: the same module and checkpoint keys as an eager build.
    assert set(trainer.G.state_dict()) == set(build_model(*model_spec(trainer.G)).state_dict())


def test_cuda_paths_channels_last_and_fused_adam_compute_the_same_on_cpu():
    """What build() switches on for CUDA, run on the CPU: NHWC layout and fused Adam change no values."""
    from advkit.runtime.amp import channels_last
    from advkit.train.gan import optimizer_for

    torch.manual_seed(0)
    G = build_model("dcgan-g", {"base_channels": 8, "image_size": 32})
    D = build_model("dcgan-d", {"base_channels": 8, "image_size": 32})
    G_nhwc, D_nhwc = channels_last(copy.deepcopy(G)), channels_last(copy.deepcopy(D))
    assert D_nhwc.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    z = torch.rand(4, 100) * 2 - 1
    # NHWC vs NCHW: the same products summed in another order (float32 defaults: 1.3e-6 relative, 1e-5 absolute)
    torch.testing.assert_close(G_nhwc(z), G(z))
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    torch.testing.assert_close(D_nhwc(channels_last(x)), D(x))

    config = GANConfig(arch="dcgan")
    eager, fused = optimizer_for(config, D.parameters()), optimizer_for(config, D_nhwc.parameters(), fused=True)
    assert fused.param_groups[0]["fused"] and not eager.param_groups[0]["fused"]
    for _ in range(3):
        for model, opt in ((D, eager), (D_nhwc, fused)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for a, b in zip(D.parameters(), D_nhwc.parameters()):
        # a few Adam steps (lr ~2e-4, normalised updates) from gradients equal to ~1e-6 relative: weights within
        # ~1e-7
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
