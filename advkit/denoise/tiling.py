"""Overlap tiling: denoise images of any size in bounded memory, with the same result as whole-image inference.

A fully convolutional denoiser's output pixel depends only on the inputs inside its receptive field. Cut
the output into core tiles of ``tile`` pixels; run the network on each core grown by a ``margin`` on every
side; keep only the core. When the margin covers half the receptive field the kept pixels never see the
tile's artificial border, and the result equals whole-image inference (to float rounding; a test checks
1e-4). Two details make that exact for strided networks:

* a stride-s network is not shift-invariant, so every window starts at a multiple of ``s`` from the image
  origin (core size and margin are rounded up to multiples of ``s``);
* a window that reaches the image's bottom/right edge is padded to the stride exactly as the whole image
  would be, because it ends where the image ends.

Normalization layers that use image statistics (group/instance norm) are not local and break the identity;
batch norm in eval mode is a per-channel affine map and keeps it.

    >>> out = tiled_apply(G, image, tile=512, margin=64)     # image [B, C, H, W] -> [B, C, H, W]
"""

from __future__ import annotations

import torch
from torch import nn


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@torch.no_grad()
def tiled_apply(model: nn.Module, image: torch.Tensor, tile: int = 512, margin: int = 64,
                output_device: torch.device | str | None = None) -> torch.Tensor:
    """Apply ``model`` to ``image`` [B, C, H, W] tile by tile; returns [B, C, H, W] on ``output_device``.

    ``image`` may stay on the CPU while the model is on a GPU: each window is moved to the model's device,
    so only one window's activations are ever held there.
    """
    stride = int(getattr(model, "stride", 1))
    tile, margin = _round_up(max(tile, stride), stride), _round_up(max(margin, 0), stride)
    device = next(model.parameters()).device
    _, _, height, width = image.shape
    out = torch.empty_like(image, device=output_device or image.device)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            y0, x0 = max(0, top - margin), max(0, left - margin)
            y1, x1 = min(height, top + tile + margin), min(width, left + tile + margin)
            # channels_last: oneDNN / cuDNN convolutions run 1.3-1.5x faster in NHWC.
            window = image[:, :, y0:y1, x0:x1].to(device).contiguous(memory_format=torch.channels_last)
            result = model(window)
            core_h, core_w = min(tile, height - top), min(tile, width - left)
            out[:, :, top:top + core_h, left:left + core_w] = result[:, :, top - y0:top - y0 + core_h,
                                                                     left - x0:left - x0 + core_w].to(out.device)
    return out
