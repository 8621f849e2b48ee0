"""Model registry: every model is built from a registered name and a dataclass config."""

from advkit.models.registry import build_model, register_model

__all__ = ["build_model", "register_model"]
