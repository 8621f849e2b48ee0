"""Every advkit command as a library call: a config dataclass and ``run(config, session=None) -> dict``.

    >>> from advkit.commands import fgsm
    >>> results = fgsm.run(fgsm.FGSMConfig(eps="0.1", device="cpu"))
    >>> results["flip_rate"]

The command line (advkit/cli) only turns options into these configs, calls ``run`` and prints the results; it is
also the one place that writes them to ``results.json``. Recipes (:mod:`advkit.commands.recipe`) run the same
functions. ``COMMANDS`` maps each command's name (as typed after ``advkit``) to its module; each module exposes
``CONFIG`` (its dataclass), ``run`` and ``RUN_DIR`` (whether it writes a run directory).
"""

from __future__ import annotations

import importlib
from types import ModuleType

COMMANDS: dict[str, str] = {
    "fgsm": "advkit.commands.fgsm",
    "linear": "advkit.commands.linear",
    "advtrain": "advkit.commands.advtrain",
    "gan train": "advkit.commands.gan_train",
    "gan sample": "advkit.commands.gan_sample",
    "gan interpolate": "advkit.commands.gan_interpolate",
    "gan toy1d": "advkit.commands.gan_toy1d",
    "eval gan": "advkit.commands.eval_gan",
    "eval domain-classifier": "advkit.commands.eval_domain_classifier",
    "eval robustness": "advkit.commands.eval_robustness",
    "eval defense": "advkit.commands.eval_defense",
    "defense train-hgd": "advkit.commands.defense_train_hgd",
    "denoise train": "advkit.commands.denoise_train",
    "denoise eval": "advkit.commands.denoise_eval",
    "denoise apply": "advkit.commands.denoise_apply",
    "denoise export": "advkit.commands.denoise_export",
    "certify": "advkit.commands.certify",
}


def command_module(name: str) -> ModuleType:
    """The module of command ``name`` (``"gan train"``)."""
    from advkit.errors import AdvkitError

    if name not in COMMANDS:
        raise AdvkitError(f"no advkit command {name!r}; commands: {', '.join(COMMANDS)}")
    return importlib.import_module(COMMANDS[name])
