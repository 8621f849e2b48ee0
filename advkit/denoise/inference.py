"""The denoisers shipped in the package, and loading any denoising checkpoint for inference (the one loader of
`denoise eval`, `denoise apply`, `denoise export` and the benchmark). The tiled forward pass itself is
:func:`advkit.denoise.apply.denoise_tensor`.

    >>> G, path, payload = load_denoiser(None, torch.device("cpu"))                  # the blind colour model
    >>> G, path, payload = load_denoiser(None, torch.device("cpu"), shipped="fast")  # sigma 50 only, 3x faster
"""

from __future__ import annotations

from pathlib import Path

import torch

from advkit.data.paths import assets_root
from advkit.errors import AdvkitError

# The denoisers trained by advkit and shipped in the package (docs/results/denoise.md, denoise-blind.md).
SHIPPED_MODELS = {
    "quality": "denoiser-unet-s50.pt",    # sigma 50, U-Net width 32: CBSD68 28.02 dB, ahead of DnCNN
    "fast": "denoiser-unet16-s50.pt",     # sigma 50, U-Net width 16: a quarter of the arithmetic, for the CPU
    "blind": "denoiser-blind-unet16.pt",  # any sigma in [0, 75] (a noise-level map), colour, clipped or not
    "blind-grey": "denoiser-blind-unet16-grey.pt",  # the same for grey images
}
# The default of `denoise eval`, `denoise apply` (with blind-grey for grey images) and load_denoiser(None): the
# blind model is told the noise level and was trained on all of [0, 75] (docs/results/denoise-blind.md); the
# sigma-50 models are right at 50 only and over-smooth below it: on the first 10 CBSD68 images at sigma 25, blind
# 30.20 dB, quality 27.34 dB, NLM 27.69 dB (`advkit denoise eval --set CBSD68 --noise-std 25 --limit 10
# --baselines nlm --model blind|quality`, seed 0, 2026-12-06).
DEFAULT_SHIPPED = "blind"


def shipped_checkpoint(model: str = DEFAULT_SHIPPED) -> Path:
    """The path of a shipped denoiser (``blind``, ``blind-grey``, ``quality`` or ``fast``) in advkit/assets."""
    if model not in SHIPPED_MODELS:
        raise AdvkitError(f"--model must be one of {', '.join(SHIPPED_MODELS)}; got {model!r}")
    path = assets_root() / SHIPPED_MODELS[model]
    if not path.is_file():
        raise AdvkitError(f"the shipped {model} denoiser {path} is missing (reinstall advkit); or pass --ckpt from "
                          "`advkit denoise train`")
    return path


def load_denoiser(ckpt: str | Path | None, device: torch.device, fold: bool = True, shipped: str | None = None):
    """(G in eval mode, its checkpoint path, payload); ``ckpt`` None means the shipped model ``shipped``
    (default :data:`DEFAULT_SHIPPED`, the blind colour model).

    ``fold`` folds batch norm into the convolutions (same outputs, ~20% faster); pass False to get the module
    whose state dict matches the checkpoint (e.g. to save it again)."""
    from advkit.models.fold import fold_batch_norm
    from advkit.models.registry import rebuild_models
    from advkit.runtime.checkpoint import load_checkpoint

    if ckpt and shipped:
        raise AdvkitError(f"--model {shipped} picks a shipped model and --ckpt {ckpt} a file of your own: pass one")
    path = Path(ckpt) if ckpt else shipped_checkpoint(shipped or DEFAULT_SHIPPED)
    payload = load_checkpoint(path)
    spec = payload["models"].get("G")
    if spec is None or not spec["name"].startswith("denoise-"):
        raise AdvkitError(f"{path} holds no denoising generator ({', '.join(payload['models'])}); pass a "
                          "`denoise train` checkpoint")
    G = rebuild_models(payload, ["G"], "cpu")["G"].float().to(device).eval()
    if fold:
        G = fold_batch_norm(G)
    G = G.to(memory_format=torch.channels_last)  # NHWC: faster convolutions on CPU and GPU
    return G, path, payload
