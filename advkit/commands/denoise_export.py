"""``advkit denoise export``: a small inference checkpoint: the generator alone (no D, no optimizer), float16 by
default, same format (loads back as float32 with ``--ckpt``).

    advkit denoise export --ckpt runs/denoise-train-... --out exported/

    >>> from advkit.commands.denoise_export import ExportConfig, run
    >>> run(ExportConfig(ckpt="runs/denoise-train-x", out="exported"))["path"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for

RUN_DIR = False  # writes one file into ``out``


@dataclass
class ExportConfig(RunConfig):
    ckpt: str = field(default="", metadata={"help": "A `denoise train` checkpoint or run directory.", "required": True,
                                            "exists": True})
    out: str = field(default="exported", metadata={"help": "Folder the exported file is written to."})
    name: str = field(default="denoiser.pt", metadata={"help": "File name written into --out DIR."})
    half: bool = field(default=True, metadata={"help": "Store the weights as float16 (half the size; loaded back as "
                                                       "float32)."})

    def __post_init__(self) -> None:
        if Path(self.name).name != self.name or not self.name.endswith(".pt"):
            raise AdvkitError(f"--name must be a plain file name ending in .pt; got {self.name!r}")


CONFIG = ExportConfig


def run(config: ExportConfig, session: Session | None = None, **session_options) -> dict:
    from advkit.denoise.export import export_generator
    from advkit.runtime.checkpoint import load_checkpoint
    from advkit.runtime.rundir import ensure_writable

    with session_for("denoise-export", config, session, run_dir=False, **session_options) as session:
        target = ensure_writable(config.out, "--out") / config.name
        if target.exists() and not session.overwrite:
            raise AdvkitError(f"{target} already exists; pass --overwrite to replace it, or another --name / --out")
        written = export_generator(config.ckpt, target, config.half)
        payload = load_checkpoint(written)  # what the file holds (it is small: G alone)
        spec = payload["models"]["G"]
        session.echo(f"{written}: {written.stat().st_size / 1e6:.1f} MB ({spec['name']}, step {payload['step']})")
        return {"path": str(written), "bytes": written.stat().st_size, "model": spec["name"], "step": payload["step"]}
