"""``advkit.denoise(image)``: one call for any image array, the same kind of array back.

In: a numpy array or a torch tensor; grey ``[H, W]``, or with channels (1 grey, 3 colour, 4 colour + alpha) as
``HWC`` (numpy's and scikit-image's convention, the default for numpy) or ``CHW`` (torch's, the default for
tensors; a tensor may also be a ``[B, C, H, W]`` batch); ``uint8``, ``uint16`` or float in [0, 1]. Out: the same
type, layout, shape and dtype (integers rounded). ``sigma`` is the noise std on the 0-255 scale or ``"auto"``
(estimated per image, :func:`advkit.denoise.estimate.estimate_sigma`); alpha is kept as given.

    >>> import numpy as np, advkit
    >>> noisy = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    >>> clean = advkit.denoise(noisy, sigma=25)          # numpy uint8 HWC in, numpy uint8 HWC out
    >>> clean.shape, clean.dtype
    ((32, 32, 3), dtype('uint8'))
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from advkit.errors import AdvkitError
from advkit.values import parse_noise_level

_CHANNELS = (1, 3, 4)


@lru_cache(maxsize=8)
def _shipped(name: str) -> nn.Module:
    from advkit.denoise.inference import load_denoiser

    return load_denoiser(None, torch.device("cpu"), shipped=name)[0]


def _models(model: Any) -> tuple[list[nn.Module], dict | None]:
    """The denoiser(s) to pick from, and a checkpoint payload when one was loaded."""
    if model is None:  # any noise level, colour or grey: the shipped blind pair (as `advkit denoise apply`)
        return [_shipped("blind"), _shipped("blind-grey")], None
    if isinstance(model, nn.Module):
        return [model], None
    if isinstance(model, (list, tuple)) and all(isinstance(m, nn.Module) for m in model):
        return list(model), None
    from advkit.denoise.inference import SHIPPED_MODELS, load_denoiser

    if isinstance(model, str) and model in SHIPPED_MODELS:
        return [_shipped(model)], None
    G, _, payload = load_denoiser(str(model), torch.device("cpu"))
    return [G], payload


def _to_chw(image: Any, layout: str | None) -> tuple[torch.Tensor, dict]:
    """[N, C, H, W] float32 in [0, 1] on the CPU, and how to undo it."""
    is_numpy = isinstance(image, np.ndarray)
    if not is_numpy and not isinstance(image, torch.Tensor):
        raise AdvkitError(f"denoise takes a numpy array or a torch tensor (an image); got {type(image).__name__}")
    dtype = str(image.dtype).removeprefix("torch.")
    scale = {"uint8": 255.0, "uint16": 65535.0}.get(dtype, 1.0)
    if scale == 1.0 and dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise AdvkitError(f"pixels must be uint8, uint16 or float in [0, 1]; got {dtype}")
    tensor = torch.from_numpy(np.asarray(image, dtype=np.float32)) if is_numpy else image.detach().cpu().float()
    layout = (layout or ("HWC" if is_numpy else "CHW")).upper()
    if layout not in ("HWC", "CHW"):
        raise AdvkitError(f"layout must be HWC or CHW; got {layout!r}")
    dims = tensor.dim()
    if dims == 2:
        x = tensor[None, None]
    elif dims == 3:
        x = (tensor.permute(2, 0, 1) if layout == "HWC" else tensor)[None]
    elif dims == 4 and not is_numpy and layout == "CHW":
        x = tensor
    else:
        raise AdvkitError(f"an image is [H, W], [H, W, C] (numpy) or [C, H, W] / [B, C, H, W] (tensor); got shape "
                          f"{tuple(tensor.shape)} (pass layout='HWC' or 'CHW' if the channels are elsewhere)")
    if x.shape[1] not in _CHANNELS:
        raise AdvkitError(f"an image has 1 (grey), 3 (colour) or 4 (colour + alpha) channels; got {x.shape[1]} in "
                          f"shape {tuple(tensor.shape)} read as {layout} (pass layout= if that is wrong)")
    x = x / scale
    if scale == 1.0 and (not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1):
        raise AdvkitError("float pixels must be in [0, 1] (divide 8-bit values by 255, or pass the uint8 array)")
    return x, {"numpy": is_numpy, "dtype": image.dtype, "device": None if is_numpy else image.device,
               "layout": layout, "dims": dims, "scale": scale}


def _back(x: torch.Tensor, how: dict) -> Any:
    if how["scale"] != 1.0:
        x = (x * how["scale"]).round_()
    if how["dims"] == 2:
        x = x[0, 0]
    elif how["dims"] == 3:
        x = x[0].permute(1, 2, 0) if how["layout"] == "HWC" else x[0]
    if how["numpy"]:
        return np.ascontiguousarray(x.numpy()).astype(how["dtype"])
    return x.to(how["device"], how["dtype"])


def denoise(image: Any, sigma: float | Literal["auto"] = "auto", model: Any = None, layout: str | None = None,
            tile: int = 512) -> Any:
    """Denoise an image array (numpy or torch, grey or colour, HWC or CHW, uint8/uint16/float): the same kind back.

    ``sigma``: the noise std on the 0-255 scale, or ``"auto"`` (estimated per image). ``model``: None (the
    shipped blind denoisers, colour and grey, each for the images it fits), a shipped name (``"quality"``,
    ``"fast"``, ``"blind"``, ``"blind-grey"``), a ``denoise train`` checkpoint path, or nn.Module(s).

        >>> import torch, advkit
        >>> advkit.denoise(torch.rand(1, 16, 16), sigma=25).shape      # a grey CHW float tensor
        torch.Size([1, 16, 16])
    """
    from advkit.data.images import ImageData
    from advkit.denoise.apply import denoise_image

    level = parse_noise_level(sigma, "sigma")
    models, payload = _models(model)
    x, how = _to_chw(image, layout)
    out = []
    for item in x:
        alpha = item[3:] if item.shape[0] == 4 else None
        result = denoise_image(models, ImageData(item[:3]), None if level == "auto" else level, tile, False,
                               payload)
        pixels = result["image"].pixels
        out.append(torch.cat([pixels, alpha]) if alpha is not None else pixels)
    return _back(torch.stack(out), how)
