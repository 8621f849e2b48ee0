"""Config fields as option names: field ``d_steps`` is option ``--d-steps`` is recipe key ``d-steps`` (a field may
name its option in its metadata: ``sets`` is ``--set``). One mapping for the CLI, recipes and the Python API.

    >>> config_from_options(GANConfig, {"d-steps": 5, "loss": "wgan-gp"}, "recipe wgan.toml").d_steps
    5
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from advkit.errors import AdvkitError


def option_name(spec: dataclasses.Field) -> str:
    """``--d-steps`` for field ``d_steps`` (or the field's ``option`` metadata)."""
    return spec.metadata.get("option") or "--" + spec.name.replace("_", "-")


def fields_by_option(config_cls: type) -> dict[str, dataclasses.Field]:
    """{option name without dashes: field} for every field of a config dataclass."""
    return {option_name(f).lstrip("-"): f for f in dataclasses.fields(config_cls)}


def is_list_field(config_cls: type, spec: dataclasses.Field) -> bool:
    """A repeatable option (``--set A --set B``). A field with ``parsed`` metadata is typed in the config but given
    as one text (``--eps 0.1,8/255``) that its ``__post_init__`` parses (:mod:`advkit.values`)."""
    hint = typing.get_type_hints(config_cls)[spec.name]
    return typing.get_origin(hint) in (list, tuple) and not spec.metadata.get("parsed")


def option_default_text(value: Any) -> Any:
    """How a parsed field's default is shown and passed on the command line: ``(0.1, 0.2)`` -> ``"0.1,0.2"``."""
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) if isinstance(value, tuple) else value


def field_help(spec: dataclasses.Field) -> str:
    """A field's help text; a callable help is asked each time (help that lists a catalog's rows)."""
    text = spec.metadata.get("help", "")
    return text() if callable(text) else text


def config_from_options(config_cls: type, options: dict[str, Any], source: str = "options"):
    """Build (and validate) a config from option-name keys (``d-steps`` or ``d_steps``); unknown keys are errors.

    A list for a plain option is one comma-separated value (``eps = [0.1, 0.25]`` -> ``"0.1,0.25"``); a list
    option (``set = ["A", "B"]``) takes the list."""
    from advkit.train.config import upgrade_options

    known = fields_by_option(config_cls)
    values = {}
    for key, value in upgrade_options(options).items():
        spec = known.get(key) or known.get(key.replace("_", "-"))
        if spec is None:
            raise AdvkitError(f"{source}: unknown key {key!r} for this command; known keys: {', '.join(sorted(known))}")
        if isinstance(value, dict):
            raise AdvkitError(f"{source}: key {key!r} must be a plain value, not a table")
        if is_list_field(config_cls, spec):
            value = list(value) if isinstance(value, (list, tuple)) else [value]
        elif isinstance(value, list):
            value = ",".join(map(str, value))
        values[spec.name] = value
    return config_cls(**values)
