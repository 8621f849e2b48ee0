"""Export a trained denoiser for shipping: the generator alone (no D, no optimizer state), float16 weights.

The file is an ordinary advkit checkpoint (:mod:`advkit.runtime.checkpoint`: registered model name,
constructor args, weights, the training config), so it rebuilds from the file alone; float16 halves the
size and is loaded back as float32 by the loaders (:func:`load_generator`). The training config is kept:
it records the noise level a sigma-specific model was trained at (``noise_std``) or that it is blind.

    >>> export_generator("runs/blind16-color/checkpoints/best.pt", "advkit/assets/denoiser-blind-unet16.pt")
    >>> G, payload = load_generator("advkit/assets/denoiser-blind-unet16.pt")
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from advkit.errors import AdvkitError


def load_generator(path: str | Path, device: str = "cpu") -> tuple[nn.Module, dict]:
    """(the denoising generator G as float32 in eval mode, unfolded, the checkpoint payload) of a checkpoint or
    run directory."""
    import torch

    from advkit.denoise.inference import load_denoiser

    G, _, payload = load_denoiser(path, torch.device(device), fold=False)
    return G, payload


def export_generator(ckpt: str | Path, out: str | Path, half: bool = True) -> Path:
    """Write G of ``ckpt`` alone to ``out`` (float16 when ``half``); returns the path written."""
    from advkit.data.paths import portable
    from advkit.runtime.checkpoint import save_checkpoint

    G, payload = load_generator(ckpt)
    spec = payload["models"]["G"]
    try:
        # The training config travels with the file: its data paths as $ADVKIT_DATA/..., never this machine's.
        return save_checkpoint(Path(out), step=payload["step"], config=portable(payload["config"], strict=True),
                               models={"G": (spec["name"], spec["args"], G.half() if half else G)},
                               extra={"exported_from": portable(str(ckpt), strict=True), "dtype": "float16" if half else "float32"})
    except OSError as e:
        raise AdvkitError(f"cannot write {out} ({e.strerror}); pass a writable path") from None
