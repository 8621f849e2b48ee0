"""``robustbench:NAME``: a RobustBench model-zoo entry (Croce et al. 2021, "RobustBench: a standardized adversarial
robustness benchmark") from a local model directory in RobustBench's layout, never downloaded at run time.

Spec: ``robustbench:NAME`` (CIFAR-10, Linf) or ``robustbench:DATASET/THREAT/NAME`` (e.g.
``robustbench:cifar100/Linf/Addepalli2022Efficient_RN18``). The checkpoint is
``$ADVKIT_DATA/robustbench/<dataset>/<threat>/<NAME>.pt``, RobustBench's own ``models/`` layout under the data
root (advkit.data.paths), so a ``models/`` folder written by ``robustbench.utils.load_model`` on a machine with a
network can be copied there as it is.

* with the optional ``robustbench`` package (``pip install advkit[robustbench]``): any zoo entry, built and
  loaded by ``robustbench.utils.load_model`` from that folder (it finds the file and downloads nothing);
* without it: the entries whose architecture advkit builds itself (:data:`BUILT_IN`, RobustBench's ``Standard``
  WRN-28-10), loaded from the same file (``state_dict`` or a bare dict, ``module.`` / ``model.`` prefixes
  removed, as RobustBench does), strictly.

RobustBench models take images in [0, 1] and carry their own normalization, so ``--mean/--std`` are refused.

    >>> model = load_robustbench("robustbench:Standard", "cpu")      # WRN-28-10, CIFAR-10, Linf
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

from advkit.data.paths import data_root, portable_path as portable
from advkit.errors import AdvkitError

DATASETS = ("cifar10", "cifar100", "imagenet")
THREATS = ("Linf", "L2", "corruptions")


def _standard_wrn() -> nn.Module:
    from advkit.models.wide_resnet import WideResNet, WideResNetConfig

    return WideResNet(WideResNetConfig(depth=28, widen_factor=10))


# (dataset, threat, name) -> the architecture, for the entries advkit builds without the robustbench package
BUILT_IN: dict[tuple[str, str, str], Callable[[], nn.Module]] = {
    ("cifar10", threat, "Standard"): _standard_wrn for threat in THREATS}


def parse_spec(spec: str) -> tuple[str, str, str]:
    """``robustbench:[DATASET/THREAT/]NAME`` -> (dataset, threat, name)."""
    parts = spec.split(":", 1)[1].split("/")
    if len(parts) == 1 and parts[0]:
        return "cifar10", "Linf", parts[0]
    if len(parts) == 3 and parts[0] in DATASETS and parts[1] in THREATS and parts[2]:
        return parts[0], parts[1], parts[2]
    raise AdvkitError(f"--model {spec!r}: write robustbench:NAME (CIFAR-10, Linf) or robustbench:DATASET/THREAT/NAME "
                      f"with DATASET one of {', '.join(DATASETS)} and THREAT one of {', '.join(THREATS)}")


def model_dir() -> Path:
    return data_root() / "robustbench"


def checkpoint_path(dataset: str, threat: str, name: str) -> Path:
    return model_dir() / dataset / threat / f"{name}.pt"


def load_robustbench(spec: str, device: torch.device | str = "cpu") -> nn.Module:
    dataset, threat, name = parse_spec(spec)
    path = checkpoint_path(dataset, threat, name)
    if not path.is_file():
        raise AdvkitError(
            f"--model {spec}: no checkpoint at {portable(str(path))}; on a machine with a network run `pip install "
            f"robustbench && python -c \"from robustbench.utils import load_model; load_model('{name}', "
            f"model_dir='models', dataset='{dataset}', threat_model='{threat}')\"` and copy "
            f"models/{dataset}/{threat}/{name}.pt there")
    zoo_load = zoo_loader()
    if zoo_load is not None:
        return zoo_load(name, model_dir=str(model_dir()), dataset=dataset, threat_model=threat).to(device)
    build = BUILT_IN.get((dataset, threat, name))
    if build is None:
        raise AdvkitError(f"--model {spec}: advkit builds only {', '.join(sorted({k[2] for k in BUILT_IN}))} "
                          "itself; for other RobustBench entries `pip install advkit[robustbench]`")
    model = build()
    try:
        model.load_state_dict(_state_dict(path), strict=True)
    except (RuntimeError, KeyError, ValueError, TypeError) as e:
        raise AdvkitError(f"{portable(str(path))} does not hold RobustBench's {name} ({str(e).splitlines()[0][:120]}); "
                          "fetch the checkpoint again") from None
    return model.to(device)


def zoo_loader() -> Callable | None:
    """``robustbench.utils.load_model`` when the robustbench package imports (None when absent or broken)."""
    try:
        from robustbench.utils import load_model
    except ImportError:  # not installed, or a dependency missing (it imports timm, pandas, pkg_resources, ...)
        return None
    return load_model


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    """RobustBench's unwrapping: ``checkpoint["state_dict"]`` or the checkpoint itself, ``module.`` and
    ``model.`` prefixes removed."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - a trust boundary: truncated, not a checkpoint, or unsafe pickles
        raise AdvkitError(f"{portable(str(path))} is not a readable checkpoint ({str(e).strip().splitlines()[0][:100]})") from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state, dict):
        raise AdvkitError(f"{portable(str(path))} holds no state dict")
    for prefix in ("module.", "model."):
        state = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state.items()}
    return state
