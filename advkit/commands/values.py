"""Option values that are lists in one string: ``--eps 0.1,0.25`` (a recipe may write ``eps = [0.1, 0.25]``)."""

from __future__ import annotations

from advkit.errors import AdvkitError


def parse_eps_list(text: str, option: str = "--eps", high: float = 1.0) -> list[float]:
    """``"0.1,0.25"`` -> [0.1, 0.25]: budgets of [0, 1] images (NaN and out-of-range values refused)."""
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise AdvkitError(f"{option} must be numbers separated by commas, e.g. 0.1,0.25; got {text!r}") from None
    if not values or any(not (0 <= v <= high) for v in values):
        raise AdvkitError(f"{option} values must be in [0, {high:g}] (images are in [0, 1]); got {text!r}")
    return values
