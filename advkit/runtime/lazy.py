"""Names of a package imported on first use, so importing the package (for a torch-free catalog beside it) loads
nothing heavy: ``__getattr__, __dir__ = lazy_names(__name__, {"PGD": "pgd", ...})`` in its ``__init__.py``.

    >>> import advkit.attacks          # no torch yet
    >>> advkit.attacks.PGD             # imports advkit.attacks.pgd now
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_names(package: str, where: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """(``__getattr__``, ``__dir__``) for ``package``: name -> the submodule that defines it."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
