"""Register models by name so a checkpoint can rebuild them from its stored constructor args alone.

    @register_model("mlp-g", MLPGeneratorConfig)
    class MLPGenerator(nn.Module):
        def __init__(self, config: MLPGeneratorConfig): ...

    net = build_model("mlp-g", {"z_dim": 100})   # -> MLPGenerator(MLPGeneratorConfig(z_dim=100))
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable

from torch import nn

from advkit.errors import AdvkitError

_REGISTRY: dict[str, tuple[type, type]] = {}

# Modules that register models; imported lazily so `advkit --help` stays fast.
_MODEL_MODULES = ("advkit.models.classifiers", "advkit.gan.models", "advkit.gan.metrics.domain",
                  "advkit.denoise.generator", "advkit.denoise.blind", "advkit.denoise.discriminator")


def register_model(name: str, config_cls: type) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        _REGISTRY[name] = (cls, config_cls)
        cls.registered_name = name
        return cls
    return decorate


def _load_all() -> None:
    for module in _MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if not (e.name or "").startswith("advkit"):
                raise


def build_model(name: str, args: dict) -> nn.Module:
    """Instantiate a registered model from its config's fields."""
    if name not in _REGISTRY:
        _load_all()
    if name not in _REGISTRY:
        raise AdvkitError(f"unknown model {name!r}; known models: {', '.join(sorted(_REGISTRY))}")
    cls, config_cls = _REGISTRY[name]
    known = {f.name for f in dataclasses.fields(config_cls)}
    unknown = set(args) - known
    if unknown:
        raise AdvkitError(f"model {name!r} does not take {', '.join(sorted(unknown))}: the checkpoint is from another "
                          "advkit version or architecture")
    return cls(config_cls(**args))


def model_spec(model: nn.Module) -> tuple[str, dict]:
    """(registered name, constructor args) of a model built from a dataclass config (``model.config``)."""
    return model.registered_name, dataclasses.asdict(model.config)
