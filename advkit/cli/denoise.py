"""``advkit denoise train|eval|apply|export`` (library: advkit.commands.denoise_*)."""

import click

from advkit.cli.common import AdvkitGroup, library_command


@click.group("denoise", cls=AdvkitGroup)
def command() -> None:
    """Denoising GAN: train, evaluate against classical denoisers (NLM, wavelet, TV, BM3D), apply, export."""


command.add_command(library_command("denoise train", "Train a denoiser: L1 content + adversarial loss (weights "
                                                     "--content-weight / --adv-weight)."))
command.add_command(library_command("denoise eval", "PSNR / SSIM per image and mean: the model, the noisy input and "
                                                    "classical baselines, same noise."))
command.add_command(library_command("denoise apply", "Denoise your own images into --out DIR (PNG, same size); no "
                                                     "--ckpt: a model shipped with advkit (--model)."))
command.add_command(library_command("denoise export", "Write a small inference checkpoint into --out DIR: the "
                                                      "generator alone (no D, no optimizer), same format."))
