"""Register models by name so a checkpoint can rebuild them from its stored constructor args alone.

    @register_model("mlp-g", MLPGeneratorConfig)
    class MLPGenerator(nn.Module):
        def __init__(self, config: MLPGeneratorConfig): ...

    net = build_model("mlp-g", {"z_dim": 100})   # -> MLPGenerator(MLPGeneratorConfig(z_dim=100))
    nets = rebuild_models(load_checkpoint("ckpt.pt"))   # every model of a checkpoint, weights loaded

The modules that register models are the table :data:`MODEL_MODULES` (imported when a name is not yet known);
tests/test_layout.py checks it lists exactly the modules that call :func:`register_model`.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable

import torch
from torch import nn

from advkit.errors import AdvkitError

_REGISTRY: dict[str, tuple[type, type]] = {}

# Modules that register models; imported lazily so `advkit --help` stays fast.
MODEL_MODULES = ("advkit.models.classifiers", "advkit.gan.models", "advkit.gan.metrics.domain",
                  "advkit.denoise.generator", "advkit.denoise.blind", "advkit.denoise.discriminator")


def register_model(name: str, config_cls: type) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        _REGISTRY[name] = (cls, config_cls)
        cls.registered_name = name
        return cls
    return decorate


def _load_all() -> None:
    for module in MODEL_MODULES:
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


def rebuild_models(payload: dict, roles: list[str] | None = None, device: str | torch.device = "cpu") -> dict[str, nn.Module]:
    """Rebuild models from a checkpoint alone: registered name + constructor args + weights."""
    built = {}
    for role in roles or list(payload["models"]):
        if role not in payload["models"]:
            raise AdvkitError(f"checkpoint has no model {role!r} (it holds {', '.join(payload['models'])}); "
                              "is it from another command?")
        spec = payload["models"][role]
        model = build_model(spec["name"], spec["args"])
        try:
            model.load_state_dict(payload["state"][role])
        except RuntimeError as e:
            raise AdvkitError(f"checkpoint weights for {role!r} do not fit a {spec['name']} model: {str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__}") from None
        built[role] = model.to(device)
    return built
