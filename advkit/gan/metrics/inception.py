"""Inception FID / IS through torch-fidelity (optional extra), from a local Inception weights file.

torch-fidelity would download its weights at run time; advkit only runs it with a file the user gives
(``feature_extractor_weights_path``), on the session's device (torch-fidelity's own default is CUDA).

    >>> inception_metrics(fake, real, "weights-inception-2015-12-05-6726825d.pth", torch.device("cpu"))
    {"fid": ..., "is": ..., "is_std": ..., "weights": ...}
"""

from __future__ import annotations

import torch

from advkit.errors import AdvkitError


class Uint8Images(torch.utils.data.Dataset):
    """[N, C, H, W] images in [0, 1] as the uint8 RGB tensors torch-fidelity reads (grey repeated to 3 channels)."""

    def __init__(self, images: torch.Tensor):
        images = images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images
        self.images = (images.clamp(0, 1) * 255).round().to(torch.uint8)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def inception_metrics(fake: torch.Tensor, real: torch.Tensor, weights: str, device: torch.device) -> dict:
    """Inception FID (fake vs real) and IS (fake) with torch-fidelity and the given weights file."""
    try:
        import torch_fidelity
    except ImportError:
        raise AdvkitError("--inception-weights needs torch-fidelity: pip install 'advkit[fidelity]'") from None
    m = torch_fidelity.calculate_metrics(input1=Uint8Images(fake), input2=Uint8Images(real), isc=True, fid=True,
                                         feature_extractor_weights_path=weights, verbose=False,
                                         cuda=device.type == "cuda")
    return {"fid": float(m["frechet_inception_distance"]), "is": float(m["inception_score_mean"]),
            "is_std": float(m["inception_score_std"]), "weights": weights}
