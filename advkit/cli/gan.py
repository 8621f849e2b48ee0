"""``advkit gan train|sample|interpolate|toy1d`` (library: advkit.commands.gan_*)."""

import click

from advkit.cli.common import AdvkitGroup, library_command


@click.group("gan", cls=AdvkitGroup)
def command() -> None:
    """Train GANs (GAN, DCGAN, WGAN, WGAN-GP, SN, CGAN, PacGAN), sample, interpolate, toy1d."""


command.add_command(library_command("gan train", "Train a GAN (Algorithm 1 of Goodfellow et al. 2014); defaults are "
                                                 "the source's MNIST GAN."))
command.add_command(library_command("gan sample", "Draw N samples from a trained generator into a grid "
                                                  "(images/samples.png)."))
command.add_command(library_command("gan interpolate", "A latent walk grid: each row moves linearly from one z to "
                                                       "another (Radford et al. 2015, sec. 6.1)."))
command.add_command(library_command("gan toy1d", "Goodfellow et al. 2014, figure 1, live: data density, G's density "
                                                 "and D(x) over training (PNG + GIF)."))
