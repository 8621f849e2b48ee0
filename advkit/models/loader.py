"""Loading a classifier from a model spec: the one grammar of ``eval robustness --model``, ``eval defense
--classifier``, ``fgsm --model`` and ``advkit.load_model``.

* ``default``: the shipped MNIST CNN; a path to an advkit checkpoint (``advkit advtrain`` writes them);
* a TorchScript file (``torch.jit.save``; recognised by its archive layout or a .ts / .jit / .torchscript name);
* ``torchvision:NAME``: a torchvision ImageNet classifier, weights only from the local torch hub cache
  (ImageNet normalization included; nothing is downloaded at run time);
* ``robustbench:NAME`` / ``robustbench:DATASET/THREAT/NAME``: a RobustBench model-zoo entry from
  ``$ADVKIT_DATA/robustbench`` in RobustBench's layout (:mod:`advkit.models.robustbench`);
* ``package.module:callable``: a function (or class) that returns an ``nn.Module`` when called with no arguments.

``mean`` / ``std`` wrap the model in :class:`advkit.models.normalized.Normalized`, so inputs stay images in [0, 1]
and budgets are in pixel units. :func:`load_victim` adds what ``advkit fgsm`` shows about a model (its input
format, class names, default images).

    >>> model = load_model("torchvision:resnet18", "cpu")          # or "default", "net.pt", "mypkg.nets:build"
    >>> victim = load_victim("default", torch.device("cpu"))
    >>> x = victim.load_image(victim.default_images[0])            # [1, 1, 28, 28]
"""

from __future__ import annotations

import importlib
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from advkit.data.paths import assets_root
from advkit.errors import AdvkitError
from advkit.models.normalized import IMAGENET_MEAN, IMAGENET_STD, Normalized

DEFAULT_CHECKPOINT = "mnist-cnn.pt"
DIGIT_NAME = re.compile(r"^mnist-test-(\d+)-label-(\d)\.png$")


@dataclass
class Victim:
    model: nn.Module
    name: str
    kind: str  # "mnist" (1x28x28) or "imagenet" (3x224x224)
    class_names: list[str]
    default_images: list[Path] = field(default_factory=list)
    source: str = ""
    note: str = ""  # said once to the user (e.g. the spec's full form)

    def load_image(self, path: str | os.PathLike) -> torch.Tensor:
        """An image file as a ``[1, C, H, W]`` tensor in [0, 1] in the victim's input format."""
        from torchvision.transforms.v2 import functional as TF

        from advkit.data.images import load_image

        # The foundation's reader: missing, truncated, transparent or non-image files get one-line errors.
        x = load_image(path, mode="L" if self.kind == "mnist" else "RGB")
        if self.kind == "mnist":
            x = TF.resize(x, [28, 28], antialias=True)
        else:  # the standard ImageNet evaluation crop
            x = TF.center_crop(TF.resize(x, [256], antialias=True), [224, 224])
        return x.clamp(0, 1).unsqueeze(0)

    def conversion(self, path: str | os.PathLike) -> str | None:
        """What :meth:`load_image` changes in this file to fit the model's input (None: nothing)."""
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            size, mode = image.size, image.mode
            rgb = np.asarray(image.convert("RGB"))
        grey = mode in ("L", "1") or bool((rgb == rgb[..., :1]).all())  # RGB files of grey pixels lose nothing
        if self.kind == "mnist" and (size != (28, 28) or not grey):
            return f"{size[0]}x{size[1]} {mode} image converted to 28x28 grey for the MNIST classifier"
        if self.kind == "imagenet" and (size != (224, 224) or mode != "RGB"):
            return f"{size[0]}x{size[1]} {mode} image resized to 256 px and centre-cropped to 224x224 RGB"
        return None

    def label_of(self, path: Path) -> int | None:
        match = DIGIT_NAME.match(Path(path).name)
        return int(match.group(2)) if match else None


def load_victim(spec: str, device: torch.device) -> Victim:
    """``default`` | ``torchvision:NAME`` | a checkpoint path; a bare torchvision name (``resnet50``, the old
    ``fgsm --model`` form) still works and its :attr:`Victim.note` says the spec is ``torchvision:resnet50``."""
    if spec.startswith("torchvision:"):
        return _torchvision(spec.split(":", 1)[1], device)
    digits = sorted(assets_root().glob("mnist-test-*.png"))
    if spec == "default":
        path = assets_root() / DEFAULT_CHECKPOINT
        if not path.exists():
            raise AdvkitError(f"the shipped default model {path} is missing; reinstall advkit or pass --model CKPT")
        return _from_checkpoint(path, device, digits, "shipped MNIST CNN (advkit, 5k MNIST train subset)")
    if Path(spec).exists() or Path(spec).suffix in (".pt", ".pth") or "/" in spec or os.sep in spec:
        # A path: the checkpoint loader names what is wrong with it (missing, truncated, foreign, ...).
        return _from_checkpoint(Path(spec), device, digits, f"checkpoint {spec}")
    victim = _torchvision(spec, device)
    victim.note = (f"--model {spec}: the model spec is torchvision:{spec} (the grammar every command takes: default, "
                   "a checkpoint, a TorchScript file, torchvision:NAME, package.module:callable)")
    return victim


def _from_checkpoint(path: Path, device: torch.device, digits: list[Path], source: str) -> Victim:
    from advkit.models.classifiers import ARCHS
    from advkit.models.registry import rebuild_models
    from advkit.runtime.checkpoint import load_checkpoint

    payload = load_checkpoint(path)
    role = "net"
    if role not in payload["models"] or payload["models"][role]["name"] not in ARCHS:
        held = ", ".join(f"{r}: {m['name']}" for r, m in payload["models"].items())
        raise AdvkitError(f"{path} holds no MNIST classifier ({held}); pass a checkpoint written by `advkit advtrain` "
                          f"(architectures {', '.join(ARCHS)})")
    model = rebuild_models(payload, [role], device)[role].eval()
    num_classes = getattr(model.config, "num_classes", 10)
    return Victim(model, payload["models"][role]["name"], "mnist", [str(c) for c in range(num_classes)], digits, source)


def _torchvision(name: str, device: torch.device) -> Victim:
    """A torchvision ImageNet classifier whose pretrained weights are already in the torch hub cache."""
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise AdvkitError(f"--model {name!r} is neither 'default', an existing checkpoint file, nor a torchvision "
                          "classifier name (e.g. googlenet, resnet50)") from None
    cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    if not cached.exists():
        raise AdvkitError(f"pretrained {name} weights are not cached at {cached} and advkit never downloads at run time; "
                          f"on a machine with a network run `python -c \"import torchvision; torchvision.models.{name}"
                          f"(weights='DEFAULT')\"` (or copy {os.path.basename(weights.url)} there), then retry")
    try:
        model = torchvision.models.get_model(name, weights=weights).eval()
    except RuntimeError as e:  # truncated download, hash mismatch
        raise AdvkitError(f"cached {name} weights at {cached} are unreadable ({str(e).splitlines()[0][:80]}); delete the "
                          "file and fetch it again on a machine with a network") from None
    net = Normalized(model, IMAGENET_MEAN, IMAGENET_STD).to(device).eval()
    return Victim(net, name, "imagenet", list(weights.meta["categories"]), [assets_root() / "chelsea.png"],
                  f"torchvision {name} ({weights})")


TORCHSCRIPT_SUFFIXES = (".ts", ".jit", ".torchscript")


def load_model(spec: str, device: torch.device | str = "cpu", mean: tuple[float, ...] | None = None,
               std: tuple[float, ...] | None = None) -> nn.Module:
    """The model a spec names, on ``device``, in eval mode, its weights frozen (attacks need input gradients only)."""
    device = torch.device(device)
    if (mean is None) != (std is None):
        raise AdvkitError("pass both --mean and --std (per-channel input normalization) or neither")
    if spec.startswith("torchvision:"):
        if mean is not None:
            raise AdvkitError("torchvision models already include ImageNet normalization; drop --mean/--std")
        name = spec.split(":", 1)[1]
        if not name or os.sep in name or Path(name).suffix:
            raise AdvkitError(f"--model {spec!r}: write torchvision:NAME with a torchvision classifier name, e.g. torchvision:resnet50")
        model = load_victim(name, device).model
    elif spec.startswith("robustbench:"):
        if mean is not None:
            raise AdvkitError("RobustBench models take [0, 1] images and normalize inside; drop --mean/--std")
        from advkit.models.robustbench import load_robustbench

        model = load_robustbench(spec, device)
    elif spec == "default" or Path(spec).exists() or Path(spec).suffix in (".pt", ".pth", *TORCHSCRIPT_SUFFIXES):
        model = _from_file(spec, device)
    elif ":" in spec:
        model = load_callable(spec)
    else:
        raise AdvkitError(f"--model {spec!r} is neither a file, 'default', torchvision:NAME nor package.module:callable"
                          f"{f' (a torchvision classifier is written torchvision:{spec})' if _is_torchvision_name(spec) else ''}")
    if mean is not None:
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise AdvkitError(f"--mean and --std need one value per channel and std > 0; got {mean} and {std}")
        model = Normalized(model, tuple(mean), tuple(std))
    model = model.to(device).eval()
    for parameter in model.parameters():  # one by one: ScriptModules have no requires_grad_()
        parameter.requires_grad_(False)
    return model


def is_torchscript(path: Path) -> bool:
    """A TorchScript archive (``torch.jit.save``): its suffix, or the model code inside the zip."""
    if path.suffix in TORCHSCRIPT_SUFFIXES:
        return True
    try:
        with zipfile.ZipFile(path) as archive:  # torch.jit.save archives carry the model's code
            return any("/code/" in name for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def load_torchscript(path: str | Path, device: torch.device | str = "cpu") -> nn.Module:
    """A TorchScript model file, or a one-line AdvkitError saying why it is not one."""
    try:
        with warnings.catch_warnings():  # torch deprecates TorchScript in favour of torch.export: still read it
            warnings.simplefilter("ignore")
            return torch.jit.load(str(path), map_location=device)
    except Exception as e:  # noqa: BLE001 - any failure to parse means "not a TorchScript model"
        raise AdvkitError(f"{path} is not a loadable TorchScript model ({str(e).strip().splitlines()[0][:120]})") from None


def _from_file(spec: str, device: torch.device) -> nn.Module:
    if spec == "default":
        return load_victim("default", device).model
    path = Path(spec)
    if path.is_dir():
        raise AdvkitError(f"--model {path} is a folder; pass a model file in it (a .pt checkpoint or state dict, a "
                          "TorchScript .pt/.ts), or module:function")
    if not path.is_file():
        raise AdvkitError(f"model file {path} does not exist; check the path")
    if is_torchscript(path):
        return load_torchscript(path, device)
    from advkit.models.registry import rebuild_models
    from advkit.runtime.checkpoint import load_checkpoint

    payload = load_checkpoint(path)  # names what is wrong: missing, truncated, foreign, unsafe pickle
    roles = list(payload["models"])
    role = "net" if "net" in roles else (roles[0] if len(roles) == 1 else None)
    if role is None:
        raise AdvkitError(f"{path} holds several models ({', '.join(roles)}) and no classifier 'net'; pass a "
                          "classifier checkpoint (advkit advtrain writes one)")
    return rebuild_models(payload, [role], device)[role]


def load_callable(spec: str, option: str = "--model") -> nn.Module:
    """``package.module:callable``: the nn.Module the callable returns when called with no arguments."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - whatever the import raises, the spec is what is wrong
        raise AdvkitError(f"{option} {spec!r}: cannot import {module_name} ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:100] if str(e) else ''}); check the module path and PYTHONPATH") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise AdvkitError(f"{option} {spec!r}: {module_name} has no callable {attribute!r}")
    model = factory()
    if not isinstance(model, nn.Module):
        raise AdvkitError(f"{option} {spec!r} returned a {type(model).__name__}, not a torch.nn.Module")
    return model


def _is_torchvision_name(name: str) -> bool:
    try:
        import torchvision

        torchvision.models.get_model_weights(name)
        return True
    except (ValueError, KeyError, ImportError):
        return False
