"""robustbench:NAME from a model directory in RobustBench's on-disk layout, written here the way RobustBench's zoo
checkpoints are (a ``state_dict`` with DataParallel's ``module.`` prefix), without the robustbench package."""

from __future__ import annotations

import pytest
import torch

from advkit.errors import AdvkitError
from advkit.models.loader import load_model
from advkit.models.robustbench import checkpoint_path, zoo_loader
from advkit.models.wide_resnet import WideResNet, WideResNetConfig

pytestmark = pytest.mark.skipif(zoo_loader() is not None, reason="with robustbench installed its own loader is used")


def test_standard_wrn_loads_from_robustbench_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    torch.manual_seed(0)
    reference = WideResNet(WideResNetConfig(depth=28, widen_factor=10)).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so a mis-loaded buffer would show
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    path = checkpoint_path("cifar10", "Linf", "Standard")
    assert path.relative_to(tmp_path).as_posix() == "robustbench/cifar10/Linf/Standard.pt"
    path.parent.mkdir(parents=True)
    torch.save({"state_dict": {f"module.{k}": v for k, v in reference.state_dict().items()}}, path)
    model = load_model("robustbench:Standard", "cpu")
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))  # the same weights in the same modules: identical logits
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    with pytest.raises(AdvkitError, match="normalize inside; drop --mean/--std"):
        load_model("robustbench:Standard", "cpu", mean=(0.5,) * 3, std=(0.5,) * 3)


def test_missing_or_unknown_robustbench_models_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVKIT_DATA", str(tmp_path))
    with pytest.raises(AdvkitError, match=r"no checkpoint at \$ADVKIT_DATA/robustbench/cifar10/L2/Standard.pt.*"
                                          r"load_model\('Standard', model_dir='models', dataset='cifar10', "
                                          r"threat_model='L2'\)"):
        load_model("robustbench:cifar10/L2/Standard", "cpu")
    other = checkpoint_path("cifar10", "Linf", "Carmon2019Unlabeled")
    other.parent.mkdir(parents=True)
    other.write_bytes(b"not used")
    with pytest.raises(AdvkitError, match=r"builds only Standard itself; .*pip install advkit\[robustbench\]"):
        load_model("robustbench:Carmon2019Unlabeled", "cpu")
    with pytest.raises(AdvkitError, match="robustbench:DATASET/THREAT/NAME"):
        load_model("robustbench:cifar11/Linf/Standard", "cpu")
