"""``advkit denoise apply``: denoise your own images into a folder (PNG, same size), with a model shipped in the
package (``model``: quality or fast) or a checkpoint of your own, tiled so any photo fits in memory.

    advkit denoise apply photo.jpg --out denoised/
    advkit denoise apply photo.jpg --out denoised/ --model fast --amp

    >>> from advkit.commands.denoise_apply import DenoiseApplyConfig, run
    >>> run(DenoiseApplyConfig(images=["photo.jpg"], out="denoised"))["outputs"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from advkit.commands.denoise_eval import AMP_HELP, MODEL_HELP
from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for

RUN_DIR = False  # writes its images into ``out``, not a run directory


@dataclass
class DenoiseApplyConfig(RunConfig):
    images: list[str] = field(default_factory=list, metadata={"help": "Image files.", "argument": True})
    out: str = field(default="denoised", metadata={"help": "Folder the denoised PNG files are written to."})
    ckpt: str | None = field(default=None, metadata={"help": "Checkpoint (default: the shipped model).", "exists": True})
    model: str | None = field(default=None, metadata={"help": MODEL_HELP, "choices": ("quality", "fast")})
    add_noise: float = field(default=0.0, metadata={
        "help": "Demo: first add Gaussian noise of this std (0-255 scale) and save the noisy image too."})
    tile: int = field(default=512, metadata={"help": "Tile size for large images."})
    amp: bool = field(default=False, metadata={"help": AMP_HELP})

    def __post_init__(self) -> None:
        from advkit.denoise.noise import check_sigma

        if not self.images:
            raise AdvkitError("pass at least one image file to denoise")
        if self.add_noise:
            check_sigma(self.add_noise)
        if self.tile < 8:
            raise AdvkitError(f"--tile must be >= 8; got {self.tile}")


CONFIG = DenoiseApplyConfig


def run(config: DenoiseApplyConfig, session: Session | None = None, **session_options) -> dict:
    from torchvision.utils import save_image

    from advkit.data.images import load_image
    from advkit.denoise.inference import denoise, load_denoiser
    from advkit.denoise.noise import add_noise, image_seed
    from advkit.runtime.amp import inference_autocast
    from advkit.runtime.rundir import ensure_writable

    out = ensure_writable(config.out, "--out")
    with session_for("denoise-apply", config, session, run_dir=False, **session_options) as session:
        G, path, _ = load_denoiser(config.ckpt, session.device, shipped=config.model)
        inference_autocast(session.device, config.amp)  # an unsupported --amp is refused here, before any work
        inputs = [load_image(p, "RGB") for p in config.images]  # every file checked before any work
        outputs = []
        for name, image in session.track(list(zip(config.images, inputs)), len(inputs), "denoise apply"):
            stem, x = Path(name).stem, image[None]
            if config.add_noise:
                x = add_noise(x, config.add_noise, seed=image_seed(config.seed, Path(name).name))
                save_image(x.clamp(0, 1), out / f"{stem}-noisy.png")
            target = out / f"{stem}-denoised.png"
            save_image(denoise(G, x, config.tile, config.amp), target)
            outputs.append(str(target))
            session.echo(f"{name} -> {target}")
        session.echo(f"{len(inputs)} image(s) denoised with {path.name}")
        return {"model": str(path), "outputs": outputs}
