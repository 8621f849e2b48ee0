"""eval_mode restores each module's own training flag, and every attack runs the whole model in eval mode."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advkit.attacks import APGD, APGDT, FAB, FGSM, PGD, AutoAttack, Normalized, Square
from advkit.runtime.modules import eval_mode


class ModeRecorder(nn.Module):
    """Identity that remembers whether it ever ran in training mode."""

    def __init__(self):
        super().__init__()
        self.ran_in_training = False

    def forward(self, x):
        self.ran_in_training |= self.training
        return x


def small_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(ModeRecorder(), nn.Conv2d(1, 4, 5, stride=2), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 12 * 12, 10))


def attacks(model: nn.Module) -> list:
    return [FGSM(model, 0.1), PGD(model, 0.1, steps=2), APGD(model, 0.1, n_iter=3), APGDT(model, 0.1, n_iter=2,
            n_target_classes=2), FAB(model, 0.1, n_iter=2, n_target_classes=2), Square(model, 0.1, n_queries=5), AutoAttack(model, 0.1, n_iter=2, n_target_classes=2,
            n_queries=5)]


def flags(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


@pytest.fixture
def batch():
    return torch.rand(6, 1, 28, 28), torch.arange(6)


def test_eval_mode_restores_mixed_flags_even_after_an_error():
    net = small_net().train()
    net[2].eval()  # a frozen batch norm inside a training net
    before = flags(net)
    with pytest.raises(ValueError):
        with eval_mode(net):
            assert not any(flags(net))
            raise ValueError("boom")
    assert flags(net) == before


@pytest.mark.parametrize("index", range(7))
def test_frozen_batch_norm_stays_frozen(batch, index):
    net = small_net().train()
    net[2].eval()
    before = flags(net)
    attacks(net)[index](*batch)
    assert flags(net) == before
    assert net[2].training is False and net.training is True
    assert not net[0].ran_in_training


@pytest.mark.parametrize("index", range(7))
def test_normalized_wrapper_does_not_switch_the_net_to_training(batch, index):
    """Normalized(net) is built in training mode (nn.Module's default) around a net in eval mode: the attack must
    give back the net in eval mode and the wrapper in training mode, each as it was."""
    net = small_net().eval()
    wrapped = Normalized(net, (0.5,), (0.5,))
    assert wrapped.training and not net.training
    before = flags(wrapped)
    attacks(wrapped)[index](*batch)
    assert flags(wrapped) == before
    assert not net[0].ran_in_training


@pytest.mark.parametrize("training", [True, False])
def test_uniform_modes_come_back(batch, training):
    net = small_net().train(training)
    for attack in attacks(net):
        attack(*batch)
        assert all(flag is training for flag in flags(net)), type(attack).__name__
    assert not net[0].ran_in_training
