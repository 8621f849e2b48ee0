"""One checkpoint format for every trainer, written atomically and loaded without pickle code execution.

Layout (format version 1)::

    {"format": "advkit-checkpoint", "version": 1, "step": int,
     "config": {...every resolved option of the command...},
     "models": {"G": {"name": "dcgan-g", "args": {...}}, ...},   # constructor args: rebuild from the file alone
     "state": {"G": state_dict, ...}, "optim": {"G": optimizer state_dict, ...},
     "rng": {...}, "extra": {...}}

Writing is atomic (:mod:`advkit.runtime.atomic`: a temporary file, fsync, ``os.replace``): a crash or a full
disk mid-write leaves the previous checkpoint intact. Loading uses
``torch.load(weights_only=True)``, so a file carrying a pickle payload is refused instead of run.

    >>> save_checkpoint("ckpt.pt", step=3, config={}, models={"net": net})   # net built from a registered config
    >>> net2 = rebuild_models(load_checkpoint("ckpt.pt"))["net"]      # advkit.models.registry
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import re
import warnings
from pathlib import Path

import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.runtime.atomic import atomic_file

FORMAT = "advkit-checkpoint"
VERSION = 1
_STEP_NAME = re.compile(r"^step-(\d+)\.pt$")


def save_checkpoint(
    path: str | os.PathLike,
    *,
    step: int,
    config: dict,
    models: dict[str, nn.Module | tuple[str, dict, nn.Module]],
    optimizers: dict[str, torch.optim.Optimizer] | None = None,
    rng: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Write a checkpoint atomically.

    ``models`` maps a role ("G") to a registered model (one built from a dataclass ``config``), or to an
    explicit (registered name, constructor args, module) triple.
    """
    # A registered model (advkit.models.registry) carries its name and its dataclass config.
    models = {role: m if isinstance(m, tuple) else (m.registered_name, dataclasses.asdict(m.config), m)
              for role, m in models.items()}
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "step": int(step),
        "config": config,
        "models": {role: {"name": name, "args": args} for role, (name, args, _) in models.items()},
        "state": {role: _plain_state(module) for role, (_, _, module) in models.items()},
        "optim": {role: opt.state_dict() for role, opt in (optimizers or {}).items()},
        "rng": rng or {},
        "extra": extra or {},
    }
    path = Path(path)
    with atomic_file(path) as f:  # a failed write (full disk, kill) leaves the previous checkpoint intact
        torch.save(payload, f)
    return path


def _plain_state(module: nn.Module) -> dict:
    # DDP / torch.compile wrap the real module; store the unwrapped names so any run can load them.
    inner = getattr(module, "module", None) or getattr(module, "_orig_mod", None) or module
    return inner.state_dict()


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """The checkpoint file ``path`` names: itself, or a run directory's latest checkpoint."""
    path = Path(path)
    if not path.exists():
        raise AdvkitError(f"checkpoint {path} does not exist; pass the .pt file a training run wrote under checkpoints/")
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise AdvkitError(f"{path} is a directory with no checkpoint in it; pass a .pt file or a run directory")
        return found
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    """Load and validate a checkpoint. Bad files raise :class:`AdvkitError` naming the problem."""
    path = resolve_checkpoint(path)
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols: one line of error is enough
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        unsafe = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(e))
        if unsafe:
            raise AdvkitError(f"refused to load {path}: it holds a Python object ({unsafe.group(1)}) that could run "
                              "code; only advkit checkpoints (tensors and plain values) are accepted") from None
        raise AdvkitError(_unreadable(path)) from None
    except Exception:  # noqa: BLE001 - a trust boundary: any failure to parse means "not a checkpoint"
        raise AdvkitError(_unreadable(path)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise AdvkitError(f"{path} is not an advkit checkpoint (no 'format: {FORMAT}' header)")
    if payload.get("version") != VERSION:
        raise AdvkitError(f"{path} has checkpoint format version {payload.get('version')}; this advkit reads version "
                          f"{VERSION}: re-export it with the advkit version that wrote it")
    expected = {"step": int, "config": dict, "models": dict, "state": dict, "optim": dict, "rng": dict, "extra": dict}
    for key, kind in expected.items():
        if not isinstance(payload.get(key), kind):
            raise AdvkitError(f"{path} is a damaged advkit checkpoint: field {key!r} is missing or not a {kind.__name__}")
    for role, spec in payload["models"].items():
        if not (isinstance(spec, dict) and isinstance(spec.get("name"), str) and isinstance(spec.get("args"), dict)
                and role in payload["state"]):
            raise AdvkitError(f"{path} is a damaged advkit checkpoint: model {role!r} lacks its name, args or weights")
    return payload


def _unreadable(path: Path) -> str:
    """One line for a file torch cannot read: a torch file cut short (it starts like one: a zip archive or a
    pickle) or something else altogether."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK") or head[:1] == b"\x80":
        return f"{path} is truncated or corrupt; re-download or re-export it"
    return (f"{path} is not an advkit checkpoint (not a PyTorch file); pass a .pt file advkit wrote (a run's "
            "checkpoints/*.pt or a `denoise export`)")


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:160] if text else type(e).__name__


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    return Path(directory) / f"step-{step:08d}.pt"


def latest_checkpoint(run_or_ckpt_dir: str | os.PathLike) -> Path | None:
    """The newest ``step-*.pt`` of a run directory (or its checkpoints/ folder); None when there is none."""
    d = Path(run_or_ckpt_dir)
    if (d / "checkpoints").is_dir():
        d = d / "checkpoints"
    if not d.is_dir():
        return None
    steps = [(int(m.group(1)), p) for p in d.iterdir() if (m := _STEP_NAME.match(p.name))]
    return max(steps)[1] if steps else None


def prune_checkpoints(directory: str | os.PathLike, keep: int) -> None:
    """Keep only the newest ``keep`` step checkpoints (``best.pt`` and others are never touched)."""
    d = Path(directory)
    steps = sorted((int(m.group(1)), p) for p in d.iterdir() if (m := _STEP_NAME.match(p.name)))
    for _, p in steps[:-keep] if keep > 0 else []:
        p.unlink(missing_ok=True)
