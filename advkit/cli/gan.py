"""``advkit gan train|sample|interpolate|toy1d`` (library: advkit.commands.gan_*)."""

from advkit.cli.common import LibraryGroup

command = LibraryGroup("gan", {
    "train": ("gan train", "Train a GAN (Algorithm 1 of Goodfellow et al. 2014); defaults are the source's MNIST GAN."),
    "sample": ("gan sample", "Draw N samples from a trained generator into a grid (images/samples.png)."),
    "interpolate": ("gan interpolate", "A latent walk grid: each row walks from one z to another (Radford et al. "
                                       "2015, sec. 6.1; slerp for a gaussian prior)."),
    "toy1d": ("gan toy1d", "Goodfellow et al. 2014, figure 1, live: data density, G's density and D(x) over training "
                           "(PNG + GIF)."),
}, help="Train GANs (GAN, DCGAN, WGAN, WGAN-GP, SN, CGAN, PacGAN), sample, interpolate, toy1d.")
