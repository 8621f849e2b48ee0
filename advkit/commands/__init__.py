"""Every advkit command as a library call: a config dataclass and ``run(config, session=None) -> dict``.

    >>> from advkit.commands import fgsm
    >>> results = fgsm.run(fgsm.FGSMConfig(eps="0.1", device="cpu"))
    >>> results["flip_rate"]

The command line (advkit/cli) only turns options into these configs, calls ``run`` and prints the results; it is
also the one place that writes them to ``results.json``. Recipes (:mod:`advkit.commands.recipe`) run the same
functions. :data:`COMMANDS` is THE list of commands: each command's name (as typed after ``advkit``), its module
and its one-line help; :data:`GROUPS` the help of each command group. ``advkit --help``, every group's help, the
click commands and :func:`command_module` all read them. Each module exposes ``CONFIG`` (its dataclass), ``run``
and ``RUN_DIR`` (whether it writes a run directory). Adding a command is one module and one row here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from advkit.attacks.catalog import ATTACKS
from advkit.gan.loss_catalog import GAN_LOSSES


@dataclass(frozen=True)
class Command:
    """One command: its library module and its help (the first sentence is the short help)."""

    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "fgsm": Command("advkit.commands.fgsm", "FGSM adversarial examples: the panda figure, or error vs eps on a dataset."),
    "linear": Command("advkit.commands.linear",
                      "The linearity demo: logistic regression, and breaking a linear MNIST classifier."),
    "advtrain": Command("advkit.commands.advtrain", "Adversarial training: the paper's objective (Goodfellow et al. "
                        "2015), FGSM-RS (Wong et al. 2020), PGD-AT, TRADES; clean, FGSM and PGD error before and after."),
    "gan train": Command("advkit.commands.gan_train", "Train a GAN (Algorithm 1 of Goodfellow et al. 2014); defaults "
                         "are the source's MNIST GAN."),
    "gan sample": Command("advkit.commands.gan_sample",
                          "Draw N samples from a trained generator into a grid (images/samples.png)."),
    "gan interpolate": Command("advkit.commands.gan_interpolate", "A latent walk grid: each row walks from one z to "
                               "another (Radford et al. 2015, sec. 6.1; slerp for a gaussian prior)."),
    "gan toy1d": Command("advkit.commands.gan_toy1d", "Goodfellow et al. 2014, figure 1, live: data density, G's "
                         "density and D(x) over training (PNG + GIF)."),
    "denoise train": Command("advkit.commands.denoise_train", "Train a denoiser: L1 content + adversarial loss "
                             "(weights --content-weight / --adv-weight); --blind: any noise level, given as an input map."),
    "denoise eval": Command("advkit.commands.denoise_eval", "PSNR / SSIM per image and mean: the model, the noisy input "
                            "and classical baselines, same noise, at one or several sigmas."),
    "denoise apply": Command("advkit.commands.denoise_apply", "Denoise your own images into --out DIR in their own "
                             "format (grey, 16-bit, alpha kept); sigma estimated per image unless given."),
    "denoise export": Command("advkit.commands.denoise_export", "Write a small inference checkpoint into --out DIR: "
                              "the generator alone (no D, no optimizer), same format."),
    "eval gan": Command("advkit.commands.eval_gan", "Domain FID, KID, precision/recall/density/coverage and IS, each "
                        "beside the real floor; mode coverage; Inception FID/IS when its weights are given."),
    "eval domain-classifier": Command("advkit.commands.eval_domain_classifier", "Train the LeNet-style classifier "
                                     "behind the domain metrics on the part of the training split that GANs never see."),
    "eval robustness": Command("advkit.commands.eval_robustness", "Robust accuracy of any model on any data per eps "
                               f"and attack ({', '.join(ATTACKS)}; L-inf or L2), the worst case per point, and "
                               "gradient-masking warnings."),
    "eval defense": Command("advkit.commands.eval_defense", "Is a purification defence (bit depth, JPEG, median, TV, a "
                            "denoiser, HGD, Defense-GAN, your own) robust? Accuracy under the oblivious attack, "
                            "white-box PGD, BPDA, EOT and AutoAttack."),
    "defense train-hgd": Command("advkit.commands.defense_train_hgd", "Train the high-level representation guided "
                                 "denoiser (Liao et al. 2018) in front of a fixed classifier on FGSM / PGD examples "
                                 "(loss on its logits or features), then evaluate it as `eval defense` does."),
    "certify": Command("advkit.commands.certify", "Certified L2 robustness by randomized smoothing (Cohen, Rosenfeld & "
                       "Kolter 2019): CERTIFY per point, certified accuracy per radius; --denoiser for denoised "
                       "smoothing (Salman et al. 2020); --attack-n for SmoothAdv beside it."),
}

GROUPS: dict[str, str] = {
    "gan": f"Train GANs (MLP, DCGAN; losses {', '.join(GAN_LOSSES)}; spectral norm, CGAN, PacGAN, EMA, "
           "DiffAugment), sample, interpolate, toy1d.",
    "denoise": "Denoising GAN: train, evaluate against classical denoisers (NLM, wavelet, TV, BM3D), apply, export.",
    "eval": "Evaluate: GANs (FID, KID, precision/recall, IS, modes), robustness to attacks, defences.",
    "defense": "Train purification defences (HGD); `advkit eval defense --purifier hgd:CKPT` evaluates them.",
    "recipe": "Reproduce published results: list and run recipes, write reports.",
    "data": "List, verify and fetch datasets.",
}


def top_level() -> dict[str, str]:
    """What ``advkit --help`` lists: each top-level command or group and its help, in the table's order."""
    out: dict[str, str] = {}
    for name, command in COMMANDS.items():
        first = name.split()[0]
        out.setdefault(first, GROUPS[first] if " " in name else command.help)
    return {**out, **{group: text for group, text in GROUPS.items() if group not in out}}


def group_commands(group: str) -> dict[str, Command]:
    """The subcommands of ``group`` ({"train": Command, ...})."""
    return {name.split(" ", 1)[1]: command for name, command in COMMANDS.items() if name.split()[0] == group
            and " " in name}


def command_module(name: str) -> ModuleType:
    """The module of command ``name`` (``"gan train"``)."""
    from advkit.errors import AdvkitError

    if name not in COMMANDS:
        raise AdvkitError(f"no advkit command {name!r}; commands: {', '.join(COMMANDS)}")
    return importlib.import_module(COMMANDS[name].module)
