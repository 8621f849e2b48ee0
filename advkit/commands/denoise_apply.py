"""``advkit denoise apply``: denoise your own images into a folder, in their own format: grey stays grey, 16-bit
stays 16-bit (PNG grey, TIFF), alpha is kept, EXIF orientation is honoured. The noise level is estimated per
image (``--noise-std auto``, the wavelet MAD of Donoho & Johnstone, :mod:`advkit.denoise.estimate`) and printed,
or given. Tiled, so any photo fits in memory.

    advkit denoise apply photo.jpg --out denoised/
    advkit denoise apply scan.png --noise-std 25 --model fast --amp

    >>> from advkit.commands.denoise_apply import DenoiseApplyConfig, run
    >>> run(DenoiseApplyConfig(images=["photo.jpg"], out="denoised"))["images"][0]["sigma"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from advkit.commands.denoise_eval import AMP_HELP, MODEL_HELP, SHIPPED
from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for
from advkit.values import parse_noise_level

RUN_DIR = False  # writes its images into ``out``, not a run directory


@dataclass
class DenoiseApplyConfig(RunConfig):
    images: list[str] = field(default_factory=list, metadata={"help": "Image files.", "argument": True})
    out: str = field(default="denoised", metadata={"help": "Folder the denoised files are written to."})
    ckpt: str | None = field(default=None, metadata={"help": "Checkpoint (default: the shipped model).", "exists": True})
    model: str | None = field(default=None, metadata={
        "help": MODEL_HELP + " Default: blind and blind-grey, each for the images it fits.", "choices": SHIPPED})
    noise_std: float | str = field(default="auto", metadata={
        "help": "Noise std on the 0-255 scale, or auto: estimated per image and printed.", "parsed": True})
    add_noise: float = field(default=0.0, metadata={
        "help": "Demo: first add Gaussian noise of this std (0-255 scale) and save the noisy image too."})
    tile: int = field(default=512, metadata={"help": "Tile size for large images."})
    amp: bool = field(default=False, metadata={"help": AMP_HELP})

    def sigma(self) -> float | None:
        """The given noise level, or None for auto."""
        return None if self.noise_std == "auto" else self.noise_std

    def __post_init__(self) -> None:
        if not self.images:
            raise AdvkitError("pass at least one image file to denoise")
        self.noise_std = parse_noise_level(self.noise_std)
        self.add_noise = parse_noise_level(self.add_noise, "--add-noise", allow_auto=False)
        if self.tile < 8:
            raise AdvkitError(f"--tile must be >= 8; got {self.tile}")


CONFIG = DenoiseApplyConfig


def run(config: DenoiseApplyConfig, session: Session | None = None, **session_options) -> dict:
    import warnings

    from advkit.data.images import read_image, write_image
    from advkit.denoise.apply import denoise_image, pick_model, small_sigma_warning
    from advkit.denoise.inference import load_denoiser
    from advkit.denoise.noise import add_noise, image_seed
    from advkit.runtime.amp import native_bf16
    from advkit.runtime.rundir import files_folder

    with session_for("denoise-apply", config, session, run_dir=False, **session_options) as session, \
            files_folder(config.out, session.overwrite) as out:
        with session.status("loading the denoiser, reading the images"):
            if config.ckpt or config.model:
                G, path, payload = load_denoiser(config.ckpt, session.device, shipped=config.model)
                paths = {id(G): path}
            else:  # any noise level, colour or grey: the blind pair
                colour, path, payload = load_denoiser(None, session.device, shipped="blind")
                grey, grey_path, _ = load_denoiser(None, session.device, shipped="blind-grey")
                G, paths = [colour, grey], {id(colour): path, id(grey): grey_path}
            amp = native_bf16(session.device, config.amp, "--amp", session.warn)  # float32 where bf16 is emulated
            with warnings.catch_warnings():  # conversions are reported once, below, per image
                warnings.simplefilter("ignore")
                inputs = [read_image(p) for p in config.images]  # every file checked before any work
        small = small_sigma_warning(config.sigma(), min(image.bit_depth for image in inputs))
        if small:
            session.warn(small)
        done, used = [], []
        for index in range(len(inputs)):
            # Each decoded input is released once taken: a 24 MP photo is 288 MB as float, and its result is
            # written while it would otherwise still be held (peak memory, bench/bench_denoise.py).
            name, image, inputs[index] = config.images[index], inputs[index], None
            stem = Path(name).stem
            if config.add_noise:
                noisy = add_noise(image.pixels[None], config.add_noise, seed=image_seed(config.seed, Path(name).name))
                image = image.with_pixels(noisy[0].clamp(0, 1))  # saved as an 8/16-bit file would hold it
                write_image(out / f"{stem}-noisy.png", image)
            # A bar per image, moving per tile (a 2000x1500 photo is 12 tiles of 512), gone when its line prints.
            label = f"{Path(name).name}" + (f" ({index + 1}/{len(inputs)})" if len(inputs) > 1 else "")
            tiles = lambda it, total, _, label=label: session.track(it, total, label, transient=True)  # noqa: E731
            ran = paths[id(pick_model(G, image.pixels.shape[0]))]  # the model that fits this image
            used += [ran] if ran not in used else []
            result = denoise_image(G, image, config.sigma(), config.tile, amp, payload, progress=tiles)
            del image
            target = out / f"{stem}-denoised{'.tif' if Path(name).suffix.lower() in ('.tif', '.tiff') else '.png'}"
            notes = result["notes"] + write_image(target, result["image"])
            for note in notes:
                session.warn(f"{Path(name).name}: {note}")
            session.echo(f"{name} -> {target} (sigma {result['sigma']:.1f}, {result['sigma_source']})")
            done.append({"input": str(name), "output": str(target), "sigma": result["sigma"],
                         "sigma_source": result["sigma_source"], "model": ran.name, "notes": notes})
        session.echo(f"{len(inputs)} image(s) denoised with {' and '.join(p.name for p in used)}")
        return {"model": str(used[0] if len(used) == 1 else path), "models": [str(p) for p in used], "images": done}
