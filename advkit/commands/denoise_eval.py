"""``advkit denoise eval``: PSNR / SSIM per image and mean for the model, the noisy input and classical
denoisers (NLM, wavelet, TV, BM3D when installed), all on the same noisy images (DnCNN protocol), at one or
several noise levels, optionally also with the noisy input clipped to [0, 1] as 8-bit files are.

    advkit denoise eval --set CBSD68 --set Kodak24 --noise-std 25           # the shipped blind model
    advkit denoise eval --ckpt runs/denoise-train-.../checkpoints/best.pt --set DIR --noise-std 15,25,50 --clip-row
    advkit denoise eval --set CBSD68 --model fast --amp --self-ensemble

    >>> from advkit.commands.denoise_eval import DenoiseEvalConfig, run
    >>> run(DenoiseEvalConfig(sets=["photos/"], baselines="none"))["sets"][0]["mean"]["advkit"]["psnr"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from advkit.denoise.options import MODES
from advkit.errors import AdvkitError
from advkit.runtime.session import RunConfig, Session, session_for
from advkit.values import parse_noise_levels

RUN_DIR = True
AMP_HELP = ("16-bit autocast (bf16; float16 on GPUs without bf16). On this project's CPU (AVX512-BF16) 2x faster for "
            "-0.01 dB on CBSD68 (docs/results/denoise.md); float32 with a warning where bf16 is emulated.")
MODEL_HELP = ("Shipped model used when there is no --ckpt: quality (sigma 50, U-Net width 32), fast (sigma 50, width "
              "16, about 3x faster on the CPU), blind / blind-grey (any sigma in [0, 75]; docs/results/denoise*.md).")
SHIPPED = ("quality", "fast", "blind", "blind-grey")


@dataclass
class DenoiseEvalConfig(RunConfig):
    sets: list[str] = field(default_factory=list, metadata={
        "help": "Test image folder, or a set name (CBSD68, Kodak24, McMaster, Set12, BSD68: `advkit data fetch`); "
                "repeatable.", "option": "--set", "required": True})
    ckpt: str | None = field(default=None, metadata={"help": "Checkpoint (default: the shipped model).", "exists": True})
    model: str | None = field(default=None, metadata={"help": MODEL_HELP + " Default blind.", "choices": SHIPPED})
    noise_std: tuple[float, ...] = field(default=(50.0,), metadata={
        "help": "Noise std(s) on the 0-255 scale, e.g. 15,25,50.", "parsed": True})
    noise_mode: str = field(default="iid", metadata={"help": "iid, or the source's compat corruption.", "choices": MODES})
    clip: bool = field(default=False, metadata={"help": "Clamp noisy inputs to [0, 1] (what 8-bit files do)."})
    clip_row: bool = field(default=False, metadata={
        "help": "Also evaluate every set and sigma with the noisy input clipped to [0, 1] (a row beside the "
                "unclipped one)."})
    self_ensemble: bool = field(default=False, metadata={
        "help": "x8 self-ensemble: the mean over the 8 flips and rotations of the input (8x the time)."})
    sigma_source: str = field(default="given", metadata={
        "help": "Blind models: given (told the true sigma) or estimated (the noisy image's estimate).",
        "choices": ("given", "estimated")})
    limit: int | None = field(default=None, metadata={"help": "Only the first N images of each set."})
    baselines: str = field(default="nlm,wavelet,tv,bm3d", metadata={
        "help": "Classical denoisers run on the same noisy images (comma list, or none); bm3d only when the "
                "optional bm3d package is installed."})
    tile: int = field(default=512, metadata={"help": "Tile size for large images."})
    amp: bool = field(default=False, metadata={"help": AMP_HELP})

    def __post_init__(self) -> None:
        self.noise_std = parse_noise_levels(self.noise_std)
        if not self.sets:
            raise AdvkitError("--set DIR is required (a folder of test images; repeat --set for several)")
        if self.limit is not None and self.limit < 1 or self.tile < 8:
            raise AdvkitError(f"--limit must be >= 1 and --tile >= 8; got {self.limit} and {self.tile}")


CONFIG = DenoiseEvalConfig


def run(config: DenoiseEvalConfig, session: Session | None = None, **session_options) -> dict:
    from advkit.data.paths import image_folder
    from advkit.denoise.apply import sigma_mismatch, small_sigma_warning
    from advkit.denoise.baselines import BASELINES, available_baselines
    from advkit.denoise.evaluate import evaluate_folder, model_method, to_markdown
    from advkit.denoise.inference import load_denoiser
    from advkit.runtime.amp import amp_dtype, native_bf16

    wanted = [b.strip() for b in config.baselines.split(",") if b.strip() and b.strip() != "none"]
    unknown = [b for b in wanted if b not in BASELINES]
    if unknown:
        raise AdvkitError(f"--baselines: unknown method {unknown[0]!r}; choose from {', '.join(BASELINES)} (or none)")
    with session_for("denoise-eval", config, session, **session_options) as session:
        G, path, payload = load_denoiser(config.ckpt, session.device, shipped=config.model)
        for sigma in config.noise_std:
            warning = sigma_mismatch(payload, sigma) or small_sigma_warning(sigma)  # test sets are 8-bit files
            if warning:
                session.warn(warning)
        amp = native_bf16(session.device, config.amp, "--amp", session.warn)  # float32 where bf16 is emulated
        methods = {"advkit": model_method(G, config.tile, amp=amp, self_ensemble=config.self_ensemble,
                                          sigma_source=config.sigma_source)}
        channels = getattr(G.config, "channels", 3)
        dtype = amp_dtype(session.device, amp, cpu=True)
        precision = f"{str(dtype).removeprefix('torch.')} autocast" if dtype else "float32"
        here = available_baselines()
        missing = [b for b in wanted if b not in here]
        if missing:
            session.warn(f"baseline(s) {', '.join(missing)} not installed, skipped (bm3d: pip install bm3d)")
        methods.update({b: here[b] for b in wanted if b in here})
        all_results, markdown = [], []
        clips = (config.clip, True) if config.clip_row and not config.clip else (config.clip,)
        for name in config.sets:
            folder = image_folder(name)
            for sigma in config.noise_std:
                for clip in clips:
                    label = f"denoise eval {Path(folder).name} sigma {sigma:g}{' clipped' if clip else ''}"
                    results = evaluate_folder(folder, methods, sigma, config.seed, config.limit, config.noise_mode,
                                              clip, progress=lambda xs, t=label: session.track(xs, len(xs), t),
                                              channels=channels)
                    all_results.append(results)
                    markdown.append(to_markdown(results))
        header = (f"# advkit denoise eval\n\nmodel: {path} (step {payload['step']}); noise: {config.noise_mode}, sigma "
                  f"{','.join(f'{v:g}' for v in config.noise_std)}, clip {config.clip}{' (+ clipped rows)' if config.clip_row else ''}, seed "
                  f"{config.seed}; device {session.device}, {precision}"
                  f"{', x8 self-ensemble' if config.self_ensemble else ''}\n\n")
        (session.run.path / "results.md").write_text(header + "\n".join(markdown))
        return {"ckpt": str(path), "step": payload["step"], "precision": precision, "sets": all_results}
