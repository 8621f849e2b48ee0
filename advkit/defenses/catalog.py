"""THE list of purifiers ``eval defense --purifier KIND[:ARG]`` may name: one row per kind (readable without torch).

A row names the builder (``"module:callable"``, imported only when used; ``Class.load`` is allowed), how its
argument is read (``int``, ``float``, ``text`` for a file or a name, ``none``), which of the run's settings the
builder takes (``device``, ``seed``, ``gan_restarts``, ``gan_steps``, ``gan_lr``) and, when the kind fixes it,
whether the purifier is ``differentiable`` (white-box PGD through it) or not (attacked through BPDA); None leaves
it to the module's own ``differentiable`` attribute. Two rows take a user's own purifier: ``torchscript:PATH`` and
``module:package.module:callable`` (a callable returning an nn.Module); a bare ``package.module:callable`` or a
TorchScript file path is read as those.

Adding a purifier is one file (``advkit/defenses/my_purifier.py``, an nn.Module mapping [0, 1] images to [0, 1]
images) and one row here (docs/ARCHITECTURE.md)::

    register(PurifierEntry("blur", "advkit.defenses.my_purifier:Blur", arg="float", form="blur:SIGMA",
                           differentiable=True, help="Gaussian blur."))
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from advkit.errors import AdvkitError

SETTINGS = ("device", "seed", "gan_restarts", "gan_steps", "gan_lr")
ARGS = {"none": None, "int": int, "float": float, "text": str}
TORCHSCRIPT_SUFFIXES = (".ts", ".jit", ".torchscript")


@dataclass(frozen=True)
class PurifierEntry:
    """One purifier kind: ``name`` (before the colon), ``target`` (the builder), ``arg`` (how the text after the
    colon is read), ``takes`` (run settings passed on), ``differentiable`` (True / False / None: the module says),
    ``form`` (how a user writes it) and ``help``."""

    name: str
    target: str
    arg: str = "none"
    takes: tuple[str, ...] = ()
    differentiable: bool | None = None
    form: str = ""
    help: str = ""

    def __post_init__(self) -> None:
        if self.arg not in ARGS or set(self.takes) - set(SETTINGS) or ":" not in self.target:
            raise AdvkitError(f"purifier {self.name!r}: arg must be one of {', '.join(ARGS)}, takes from "
                              f"{', '.join(SETTINGS)}, target 'module:callable'; got {self.arg!r}, {self.takes}, "
                              f"{self.target!r}")

    def builder(self) -> Callable:
        module, _, attribute = self.target.partition(":")
        value: Any = importlib.import_module(module)
        for part in attribute.split("."):
            value = getattr(value, part)
        return value

    def read_arg(self, text: str):
        """The argument after the colon, as the row reads it (one-line errors naming the forms)."""
        cast = ARGS[self.arg]
        if cast is None:
            if text:
                raise AdvkitError(f"--purifier {self.name} takes no value; forms: {forms()}")
            return ()
        if not text:
            raise AdvkitError(f"--purifier {self.name} needs a value after a colon ({self.form}; forms: {forms()})")
        try:
            return (cast(text),)
        except ValueError:
            kind = "n integer" if cast is int else " number"
            raise AdvkitError(f"--purifier {self.name}:{text}: {text!r} is not a{kind} (forms: {forms()})") from None


PURIFIERS: dict[str, PurifierEntry] = {}


def register(entry: PurifierEntry) -> PurifierEntry:
    """Add (or replace) a row; ``--purifier`` and its help see it at once."""
    PURIFIERS[entry.name] = entry
    return entry


def forms() -> str:
    return ", ".join(entry.form or entry.name for entry in PURIFIERS.values())


def purifier_help() -> str:
    """The ``--purifier`` help, from the table."""
    return "One of: " + " | ".join(entry.form or entry.name for entry in PURIFIERS.values()) + "."


def split_spec(spec: str) -> tuple[PurifierEntry, str]:
    """(row, argument text) for a ``--purifier`` value; a bare TorchScript file or ``package.module:callable`` is
    read as the ``torchscript`` / ``module`` row."""
    kind, _, arg = spec.partition(":")
    if kind in PURIFIERS:
        return PURIFIERS[kind], arg
    if Path(spec).suffix in TORCHSCRIPT_SUFFIXES or (Path(spec).is_file() and ":" not in spec):
        return PURIFIERS["torchscript"], spec
    if ":" in spec and "." in kind and "/" not in kind:
        return PURIFIERS["module"], spec
    raise AdvkitError(f"--purifier {spec!r}: unknown purifier {kind!r}; forms: {forms()}")


_D = "advkit.defenses"
for _row in (
    PurifierEntry("identity", f"{_D}.defended:Identity", differentiable=True, form="identity", help="No purifier."),
    PurifierEntry("bit-depth", f"{_D}.bit_depth:BitDepth", "int", form="bit-depth:BITS",
                  help="Bit-depth reduction (Xu et al. 2018)."),
    PurifierEntry("jpeg", f"{_D}.jpeg:JPEG", "int", form="jpeg:QUALITY", help="JPEG compression (Guo et al. 2018)."),
    PurifierEntry("median", f"{_D}.median:MedianFilter", "int", form="median:KERNEL",
                  help="Median smoothing (Xu et al. 2018)."),
    PurifierEntry("tv", f"{_D}.tv:TVMinimisation", "float", form="tv:WEIGHT",
                  help="Total-variation minimisation (Guo et al. 2018)."),
    PurifierEntry("denoiser", f"{_D}.denoiser:Denoiser.load", "text", ("device",), form="denoiser:fast|quality|CKPT",
                  help="A denoising GAN's generator (shipped or a checkpoint)."),
    PurifierEntry("hgd", f"{_D}.hgd:HGD.load", "text", ("device",), form="hgd:CKPT",
                  help="HGD (Liao et al. 2018), a `defense train-hgd` checkpoint."),
    PurifierEntry("defense-gan", f"{_D}.defense_gan:DefenseGAN.load", "text",
                  ("device", "seed", "gan_restarts", "gan_steps", "gan_lr"), form="defense-gan:CKPT",
                  help="Defense-GAN (Samangouei et al. 2018), a `gan train` checkpoint."),
    PurifierEntry("torchscript", "advkit.models.loader:load_torchscript", "text", ("device",), differentiable=True,
                  form="torchscript:PATH", help="Your TorchScript purifier (differentiable: white-box PGD)."),
    PurifierEntry("module", "advkit.models.loader:load_callable", "text", form="module:package.module:callable",
                  help="Your nn.Module factory; set `differentiable = False` on it for BPDA."),
):
    register(_row)
