"""advkit: adversarial examples, GANs and denoising GANs, made real, fast and reproducible.

The public API (every name is imported on first use, so ``import advkit`` loads no torch):

    >>> import advkit
    >>> model, (x, y) = advkit.load_model("default"), advkit.load_data("mnist", n=100)
    >>> x_adv = advkit.attacks.PGD(model, eps=0.3, steps=10)(x, y)
    >>> advkit.evaluate_robustness(model, x, y, eps="8/255,0.1")["robust_accuracy"]["0.1"]["worst_case"]
    >>> clean = advkit.denoise(noisy_uint8_hwc, sigma="auto")        # the same array type back
    >>> advkit.train_gan(advkit.GANConfig(arch="dcgan", steps=2000), out="runs/dcgan")
    >>> advkit.run_recipe("fgsm-softmax", smoke=True)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from advkit.errors import AdvkitError
from advkit.version import __version__

if TYPE_CHECKING:  # for type checkers and the layout test's import graph
    from advkit import attacks, denoise
    from advkit.api import GANConfig, evaluate_robustness, load_data, load_model, run_recipe, train_gan

_API = ("GANConfig", "evaluate_robustness", "load_data", "load_model", "run_recipe", "train_gan")
_PACKAGES = ("attacks", "denoise")  # advkit.denoise is also callable: advkit.denoise(image, sigma="auto")
__all__ = ["AdvkitError", "GANConfig", "__version__", "attacks", "denoise", "evaluate_robustness", "load_data",
           "load_model", "run_recipe", "train_gan"]


def __getattr__(name: str) -> Any:
    if name in _PACKAGES:
        return importlib.import_module(f"advkit.{name}")
    if name in _API:
        value = getattr(importlib.import_module("advkit.api"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'advkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
