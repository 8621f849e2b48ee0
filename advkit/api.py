"""advkit's public Python API, reached as ``advkit.<name>`` (see ``advkit/__init__.py``; each import is lazy).

Every function here is a thin, documented entry to one library home: models and data by spec strings
(the grammar ``eval robustness --model`` / ``--data`` take), the robustness evaluation, denoising any image array,
GAN training, recipes. ``advkit.denoise(image)`` is the package :mod:`advkit.denoise` called (its api). Bad input raises :class:`advkit.errors.AdvkitError` with a one-line message.
"""

from __future__ import annotations

from typing import Any

from advkit.train.gan_config import GANConfig

__all__ = ["GANConfig", "evaluate_robustness", "load_data", "load_model", "run_recipe", "train_gan"]


def load_model(spec: str = "default", device: str = "cpu", mean: tuple[float, ...] | None = None,
               std: tuple[float, ...] | None = None):
    """The classifier a model spec names, in eval mode, frozen, mapping [0, 1] images to logits.

    Specs (one grammar for every command): ``default`` (the shipped MNIST CNN), an advkit checkpoint path, a
    TorchScript file, ``torchvision:NAME`` (ImageNet weights from the local torch hub cache, normalization
    included) or ``package.module:callable``; ``mean``/``std`` wrap a model that expects normalized inputs.

        >>> import advkit
        >>> model = advkit.load_model("default")
        >>> model(advkit.load_data("mnist", n=4)[0]).shape
        torch.Size([4, 10])
    """
    from advkit.models.loader import load_model as load

    return load(spec, device, mean, std)


def load_data(spec: str = "mnist", n: int | None = None, seed: int = 0, subset: str = "random"):
    """``(x [N, C, H, W] float32 in [0, 1], y [N] int64)`` for a data spec: ``mnist``, ``fashion-mnist``,
    ``cifar10``, ``cifar100`` (test splits), ``imagenet:PATH``, an ImageFolder folder, or a .pt/.npz file holding
    ``x`` and ``y``; ``n`` points (None: all) chosen by ``subset`` (random, seeded by ``seed``, or first).

        >>> import advkit
        >>> x, y = advkit.load_data("mnist", n=8, seed=0)
        >>> tuple(x.shape), y.dtype
        ((8, 1, 28, 28), torch.int64)
    """
    from advkit.robustness.specs import load_data as load

    return load(spec, n, seed, subset)


def evaluate_robustness(model, x, y, eps: Any = "0.1,0.2,0.3", attacks: Any = None, norm: str = "linf",
                        **options) -> dict:
    """Clean and robust accuracy per budget and attack, the worst case per point, seconds and gradient-masking
    warnings. ``eps``: ``"8/255"``, ``"0.1,0.2"``, a number or a list; ``attacks``: names from
    :mod:`advkit.attacks.catalog` (None: the defaults for ``norm``); ``options``: ``batch_size``, ``seed``,
    ``pgd_steps``, ``restarts``, ``diagnostics``. Results are keyed by ``f"{eps:g}"``.

        >>> import advkit
        >>> model, (x, y) = advkit.load_model("default"), advkit.load_data("mnist", n=32)
        >>> results = advkit.evaluate_robustness(model, x, y, eps="0.1", attacks="fgsm,pgd", pgd_steps=5)
        >>> sorted(results["robust_accuracy"]["0.1"])
        ['fgsm', 'pgd', 'worst_case']
    """
    from advkit.robustness.evaluate import evaluate_robustness as evaluate

    return evaluate(model, x, y, eps, attacks, norm, **options)


def train_gan(config: GANConfig | None = None, **session_options) -> dict:
    """Train a GAN (``advkit gan train``) and return its final and best figures; ``session_options``: ``out``
    (the run directory), ``quiet``, ``overwrite``, ``resume``.

        >>> import advkit
        >>> config = advkit.GANConfig(arch="dcgan", dataset="fake", steps=2, batch_size=8, base_channels=8,
        ...                           sample_every=2, eval_samples=200, grid=4)
        >>> results = advkit.train_gan(config, out="runs/api-gan", quiet=True)
        >>> results["run"]
        'runs/api-gan'
    """
    from advkit.commands.gan_train import run

    return run(config or GANConfig(), **session_options)


def run_recipe(name: str, smoke: bool = False, out: str | None = None, **options) -> dict:
    """Run a shipped recipe (``advkit recipe list``) end to end: ``{"results", "report", "run"}``; ``smoke``
    runs the same code path with tiny settings. ``options``: ``device``, ``seed``, ``quiet``, ``overwrite``.

        >>> import advkit
        >>> advkit.run_recipe("linear-demo", smoke=True, out="runs/api-recipe", quiet=True)["run"]
        'runs/api-recipe'
    """
    from advkit.commands.recipe import run_recipe as run

    return run(name, smoke=smoke, out=out, **options)
