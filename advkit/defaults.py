"""The one defaults table: every command's configuration dataclass, shared by the Python API and the CLI.

The CLI options are generated from these dataclasses (:func:`advkit.cli.common.options_from`), so a default
changed here changes ``--help``, recipes and the API together.

    >>> from advkit.defaults import defaults
    >>> defaults("gan train")["batch_size"]
    128
    >>> from advkit.defaults import GANConfig
    >>> GANConfig(arch="dcgan", loss="wgan-gp").d_steps     # per-loss defaults resolved in the config
    5
"""

from __future__ import annotations

import dataclasses
from typing import Any

from advkit.cli.fgsm import FGSMConfig
from advkit.cli.linear import LinearConfig
from advkit.gan.toy1d import Toy1DConfig
from advkit.train.base import TrainerConfig
from advkit.train.classifier import ClassifierConfig
from advkit.train.denoise import DenoiseConfig
from advkit.train.gan import GANConfig

COMMAND_CONFIGS: dict[str, type] = {
    "fgsm": FGSMConfig,
    "linear": LinearConfig,
    "advtrain": ClassifierConfig,
    "gan train": GANConfig,
    "gan toy1d": Toy1DConfig,
    "denoise train": DenoiseConfig,
}

# Options shared by every command that computes (advkit.cli.common.compute_options).
COMPUTE_DEFAULTS: dict[str, Any] = {"device": "auto", "seed": 0, "out": None, "quiet": False, "deterministic": False}


def defaults(command: str) -> dict[str, Any]:
    """Every default of a command, as the CLI shows them (field names with underscores)."""
    if command not in COMMAND_CONFIGS:
        raise KeyError(f"no config for {command!r}; commands: {', '.join(COMMAND_CONFIGS)}")
    cls = COMMAND_CONFIGS[command]
    values = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
    return {**values, **COMPUTE_DEFAULTS}


__all__ = ["COMMAND_CONFIGS", "COMPUTE_DEFAULTS", "ClassifierConfig", "DenoiseConfig", "FGSMConfig", "GANConfig",
           "LinearConfig", "Toy1DConfig", "TrainerConfig", "defaults"]
