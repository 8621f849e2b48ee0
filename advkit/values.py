"""Values a user types, parsed and checked in one function each (no torch: configs call them at the edge).

* a budget ``eps``: :func:`parse_eps` (``"8/255"``, ``"0.1,0.2"``, ``0.3``, ``[0.1, 0.2]`` -> ``tuple[float, ...]``),
  one budget checked by :func:`check_eps` (what every attack calls);
* a threat model: :func:`parse_norm` (``"linf"``, ``"Linf"``, ``"L-inf"``, ``"l2"`` ... -> ``"linf"`` or ``"l2"``);
* a noise level on the 0-255 scale: :func:`parse_noise_level` (``"auto"`` or a number in [0, 255]) and
  :func:`parse_noise_levels` (a comma list of numbers); :func:`takes_noise_level` says whether a denoiser is told it.

    >>> parse_eps("8/255,16/255")
    (0.03137254901960784, 0.06274509803921569)
    >>> parse_norm("Linf"), parse_noise_level("auto"), parse_noise_level("25")
    ('linf', 'auto', 25.0)
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Iterable, Literal

from advkit.errors import AdvkitError

NORMS = ("linf", "l2")
_NORM_SPELLINGS = {"linf": "linf", "l-inf": "linf", "inf": "linf", "l_inf": "linf", "l2": "l2", "l-2": "l2"}


def parse_norm(norm: Any) -> str:
    """The one spelling of a threat model: ``"linf"`` or ``"l2"`` (any case; ``"Linf"``/``"L2"`` as attacks took)."""
    canonical = _NORM_SPELLINGS.get(str(norm).strip().lower()) if isinstance(norm, str) else None
    if canonical is None:
        raise AdvkitError(f"norm must be linf or l2; got {norm!r}")
    return canonical


def check_eps(eps: Any, norm: str = "linf", option: str = "eps") -> float:
    """One budget in [0, 1] pixel units as a float: in [0, 1] for linf, finite and >= 0 for l2."""
    norm = parse_norm(norm)
    try:
        value = float(eps)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(eps, bool) or not math.isfinite(value) or value < 0 or (norm == "linf" and value > 1):
        rule = "in [0, 1]" if norm == "linf" else "finite and >= 0"
        raise AdvkitError(f"{option} must be {rule} for the {norm} norm (images in [0, 1], e.g. 0.3 or 8/255); "
                          f"got {eps!r}")
    return value


def _number(text: str) -> float:
    """``"0.25"``, ``"8/255"`` -> float (ValueError otherwise)."""
    text = text.strip()
    if "/" in text:
        top, bottom = text.split("/", 1)
        return float(Fraction(top.strip()) / Fraction(bottom.strip())) if bottom.strip() not in ("0", "") else float("nan")
    return float(text)


def _numbers(value: Any, option: str, example: str) -> list[float]:
    items: Iterable[Any] = str(value).split(",") if isinstance(value, str) else (
        value if isinstance(value, (list, tuple)) else [value])
    out = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        try:
            if isinstance(item, bool):
                raise TypeError("a flag is not a number")
            out.append(_number(item) if isinstance(item, str) else float(item))
        except (TypeError, ValueError, ZeroDivisionError):
            raise AdvkitError(f"{option} must be numbers (or fractions such as 8/255) separated by commas, e.g. "
                              f"{example}; got {value!r}") from None
    if not out:
        raise AdvkitError(f"{option} needs at least one value, e.g. {example}; got {value!r}")
    return out


def parse_eps(value: Any, norm: str = "linf", option: str = "--eps") -> tuple[float, ...]:
    """Budgets from a comma list (``"0.1,0.2"``, ``"8/255"``), a number or a list, each checked by :func:`check_eps`."""
    return tuple(check_eps(v, norm, option) for v in _numbers(value, option, "0.1,0.2 or 8/255"))


def parse_one_eps(value: Any, norm: str = "linf", option: str = "--eps") -> float:
    """Exactly one budget (``"8/255"`` or ``0.3``), as :func:`parse_eps`."""
    values = parse_eps(value, norm, option)
    if len(values) != 1:
        raise AdvkitError(f"{option} takes one budget here (e.g. 0.3 or 8/255); got {value!r}")
    return values[0]


def eps_text(values: Iterable[float]) -> str:
    """``(0.1, 0.2)`` -> ``"0.1,0.2"``: how a budget list is shown (help defaults, labels; the f"{eps:g}" keys)."""
    return ",".join(f"{v:g}" for v in values)


def _check_noise_std(value: float, option: str) -> float:
    if not (math.isfinite(value) and 0 <= value <= 255):
        raise AdvkitError(f"{option} must be in [0, 255] (std on the 0-255 pixel scale, e.g. 50) or auto; got {value!r}")
    return float(value)


def parse_noise_level(value: Any, option: str = "--noise-std", allow_auto: bool = True) -> float | Literal["auto"]:
    """A noise std on the 0-255 scale (``25``, ``"25"``) or ``"auto"`` (estimated from the image; None means auto)."""
    if allow_auto and (value is None or (isinstance(value, str) and value.strip().lower() == "auto")):
        return "auto"
    if isinstance(value, bool):
        raise AdvkitError(f"{option} must be in [0, 255] (std on the 0-255 pixel scale, e.g. 50) or auto; got {value!r}")
    try:
        number = _number(value) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise AdvkitError(f"{option} must be in [0, 255] (std on the 0-255 pixel scale, e.g. 50) or auto; "
                          f"got {value!r}") from None
    return _check_noise_std(number, option)


def parse_noise_levels(value: Any, option: str = "--noise-std") -> tuple[float, ...]:
    """Noise stds on the 0-255 scale from a comma list (``"15,25,50"``), a number or a list."""
    return tuple(_check_noise_std(v, option) for v in _numbers(value, option, "15,25,50"))


def takes_noise_level(model: Any) -> bool:
    """Whether a denoiser is told the noise level (``model(x, sigma)``): the blind models say so with the class
    attribute ``takes_noise_level = True`` (:mod:`advkit.denoise.blind`); every caller asks here."""
    return bool(getattr(model, "takes_noise_level", False))
