"""Fuzzing the command line: random option values and random bytes as images and checkpoints.

Whatever hypothesis draws, advkit either runs (exit 0) or stops with one line and exit code 2: a traceback
(any exception escaping ``main``) fails the test.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advkit.cli.main import main

FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])
numbers = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["nan", "inf", "-inf", "1e9", "-0", "0.5", "abc", ""]),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr))


def run(capsys, args: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code in (0, 2), (args, info.value.code, err[-400:])
    if info.value.code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("Error:") and "Traceback" not in err, (args, err[-400:])


@FUZZ
@given(steps=numbers, batch=numbers, lr=numbers, d_steps=numbers,
       loss=st.sampled_from(["ns", "minimax", "wgan", "wgan-gp", "hinge", "bogus"]),
       dataset=st.sampled_from(["fake", "ring", "gaussian1d", "no-such-set"]))
def test_gan_train_options(capsys, steps, batch, lr, d_steps, loss, dataset):
    if steps.lstrip("-").isdigit() and int(steps) > 2:
        steps = "2"  # keep a valid run short
    with tempfile.TemporaryDirectory() as out:
        run(capsys, ["gan", "train", "--steps", steps, "--batch-size", batch, "--lr", lr, "--d-steps", d_steps,
                     "--loss", loss, "--dataset", dataset, "--arch", "mlp", "--eval-samples", "64", "--device", "cpu",
                     "--quiet", "--out", out])


@FUZZ
@given(eps=numbers, target=st.integers(-3, 12).map(str))
def test_fgsm_options(capsys, eps, target):
    with tempfile.TemporaryDirectory() as out:
        run(capsys, ["fgsm", "--eps", eps, "--target", target, "--device", "cpu", "--quiet", "--out", out])


@FUZZ
@given(alpha=numbers, eps=numbers, steps=st.sampled_from(["-1", "0", "1", "x"]), batch=numbers)
def test_advtrain_options(capsys, alpha, eps, steps, batch):
    with tempfile.TemporaryDirectory() as out:
        run(capsys, ["advtrain", "--arch", "softmax", "--alpha", alpha, "--eps", eps, "--steps", steps,
                     "--batch-size", batch, "--train-size", "64", "--report-size", "64", "--device", "cpu",
                     "--quiet", "--out", out])


@FUZZ
@given(data=st.binary(max_size=512), suffix=st.sampled_from([".png", ".jpg", ".pt"]))
def test_random_bytes_as_inputs(capsys, data, suffix):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"input{suffix}"
        path.write_bytes(data)
        out = str(Path(d) / "out")
        if suffix == ".pt":
            for args in (["fgsm", "--model", str(path)], ["gan", "sample", "--ckpt", str(path)],
                         ["denoise", "apply", str(Path(__file__).parent.parent / "advkit/assets/chelsea.png"),
                          "--ckpt", str(path)]):
                run(capsys, [*args, "--device", "cpu", "--quiet", "--out", out])
        else:
            run(capsys, ["fgsm", "--image", str(path), "--device", "cpu", "--quiet", "--out", out])
            run(capsys, ["denoise", "apply", str(path), "--device", "cpu", "--quiet", "--out", out])
