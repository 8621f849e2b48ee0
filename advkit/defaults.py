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

from advkit.commands import COMMANDS, command_module
from advkit.commands.denoise_apply import DenoiseApplyConfig
from advkit.commands.denoise_eval import DenoiseEvalConfig
from advkit.commands.eval_gan import EvalGANConfig
from advkit.commands.fgsm import FGSMConfig
from advkit.commands.linear import LinearConfig
from advkit.commands.options import option_default_text
from advkit.gan.toy1d_config import Toy1DConfig
from advkit.runtime.session import RunConfig
from advkit.train.classifier_config import ClassifierConfig
from advkit.train.config import TrainerConfig
from advkit.train.denoise_config import DenoiseConfig
from advkit.train.gan_config import GANConfig

COMMAND_CONFIGS: dict[str, type] = {name: command_module(name).CONFIG for name in COMMANDS}

# Session options of every command that computes (advkit.cli.common.session_options); device, seed and
# deterministic are config fields (RunConfig), so config.json and checkpoints hold them.
SESSION_DEFAULTS: dict[str, Any] = {"out": None, "quiet": False}


def defaults(command: str) -> dict[str, Any]:
    """Every default of a command, as the CLI shows them (field names with underscores; a parsed field's typed
    default as its text: ``(0.1, 0.2)`` -> ``"0.1,0.2"``)."""
    if command not in COMMAND_CONFIGS:
        raise KeyError(f"no config for {command!r}; commands: {', '.join(COMMAND_CONFIGS)}")
    values = {}
    for f in dataclasses.fields(COMMAND_CONFIGS[command]):
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
        if f.metadata.get("parsed") and f.name in values:
            values[f.name] = option_default_text(values[f.name])
    return {**SESSION_DEFAULTS, **values}


__all__ = ["COMMAND_CONFIGS", "SESSION_DEFAULTS", "ClassifierConfig", "DenoiseApplyConfig", "DenoiseConfig",
           "DenoiseEvalConfig", "EvalGANConfig", "FGSMConfig", "GANConfig", "LinearConfig", "RunConfig", "Toy1DConfig",
           "TrainerConfig", "defaults"]
