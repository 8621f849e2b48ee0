"""Each value a user types is parsed and checked by one function (advkit.values), with one message everywhere."""

from __future__ import annotations

import pytest

from advkit.errors import AdvkitError
from advkit.values import (check_eps, eps_text, parse_eps, parse_noise_level, parse_noise_levels, parse_norm,
                           parse_one_eps, takes_noise_level)


def test_eps_lists_take_fractions_commas_numbers_and_lists():
    assert parse_eps("8/255") == (8 / 255,)
    assert parse_eps("0.1,0.2") == (0.1, 0.2) and parse_eps(" 0.1 , 8/255 ,") == (0.1, 8 / 255)
    assert parse_eps(0.3) == (0.3,) and parse_eps([0.1, "2/255"]) == (0.1, 2 / 255)
    assert parse_eps("1.5", norm="l2") == (1.5,) and parse_one_eps("4/255") == 4 / 255
    # results.json keys are f"{eps:g}": parsing gives the same floats, hence the same keys, as float(text) did.
    assert [f"{e:g}" for e in parse_eps("0.1,0.2,0.3")] == ["0.1", "0.2", "0.3"]
    assert eps_text(parse_eps("0.1,0.25")) == "0.1,0.25"


@pytest.mark.parametrize("bad", ["", "abc", "0.1,x", "1.5", "-0.1", "nan", "inf", "1/0", [], True])
def test_bad_eps_is_one_line_error(bad):
    with pytest.raises(AdvkitError) as e:
        parse_eps(bad)
    assert "\n" not in e.value.message and "--eps" in e.value.message


def test_one_message_for_one_budget_everywhere():
    from advkit.attacks import FGSM
    from torch import nn

    with pytest.raises(AdvkitError) as direct:
        check_eps(2.0, "linf", "eps")
    with pytest.raises(AdvkitError) as attack:
        FGSM(nn.Linear(2, 2), 2.0)
    assert direct.value.message == attack.value.message
    with pytest.raises(AdvkitError):
        parse_one_eps("0.1,0.2")


def test_one_spelling_of_the_norm():
    assert {parse_norm(n) for n in ("linf", "Linf", "LINF", "L-inf", "inf")} == {"linf"}
    assert {parse_norm(n) for n in ("l2", "L2")} == {"l2"}
    from advkit.attacks import APGD
    from torch import nn

    assert APGD(nn.Linear(2, 2), 1.5, norm="L2").norm == APGD(nn.Linear(2, 2), 1.5, norm="l2").norm == "l2"
    for bad in ("l1", "", None, 2):
        with pytest.raises(AdvkitError, match="norm must be linf or l2"):
            parse_norm(bad)


def test_noise_levels():
    assert parse_noise_level("auto") == parse_noise_level(None) == "auto"
    assert parse_noise_level("25") == parse_noise_level(25) == 25.0
    assert parse_noise_levels("15,25,50") == (15.0, 25.0, 50.0) and parse_noise_levels(50) == (50.0,)
    for bad in ("300", -1, "x", True, float("nan")):
        with pytest.raises(AdvkitError, match=r"--noise-std must be in \[0, 255\]"):
            parse_noise_level(bad)
    with pytest.raises(AdvkitError):
        parse_noise_level("auto", allow_auto=False)


def test_takes_noise_level_is_the_one_predicate():
    from advkit.denoise.blind import BlindUNetDenoiser
    from advkit.denoise.generator import UNetDenoiser

    assert takes_noise_level(BlindUNetDenoiser) and not takes_noise_level(UNetDenoiser) and not takes_noise_level(object())


def test_configs_hold_typed_values_and_refuse_bad_text():
    from advkit.commands.denoise_apply import DenoiseApplyConfig
    from advkit.commands.denoise_eval import DenoiseEvalConfig
    from advkit.commands.eval_defense import DefenseConfig
    from advkit.commands.eval_robustness import RobustnessConfig

    config = RobustnessConfig(eps="8/255,0.1", norm="Linf", attacks="pgd,fgsm")
    assert config.eps == (8 / 255, 0.1) and config.norm == "linf" and config.attacks == ("pgd", "fgsm")
    assert RobustnessConfig(norm="l2", attacks="pgd").attacks == ("pgd-l2",)
    assert DefenseConfig(eps="8/255").eps == 8 / 255
    assert DenoiseEvalConfig(sets=["x"], noise_std="15,25").noise_std == (15.0, 25.0)
    assert DenoiseApplyConfig(images=["a.png"]).noise_std == "auto"
    assert DenoiseApplyConfig(images=["a.png"], noise_std="25").noise_std == 25.0
    for make in (lambda: RobustnessConfig(eps="1.5"), lambda: RobustnessConfig(attacks="nope"),
                 lambda: DefenseConfig(eps="0.1,0.2"), lambda: DenoiseEvalConfig(sets=["x"], noise_std="300")):
        with pytest.raises(AdvkitError):
            make()
