"""``advkit denoise train|eval|apply|export`` (library: advkit.commands.denoise_*)."""

from advkit.cli.common import LibraryGroup

command = LibraryGroup("denoise", {
    "train": ("denoise train", "Train a denoiser: L1 content + adversarial loss (weights --content-weight / "
                               "--adv-weight); --blind: any noise level, given as an input map."),
    "eval": ("denoise eval", "PSNR / SSIM per image and mean: the model, the noisy input and classical baselines, "
                             "same noise, at one or several sigmas."),
    "apply": ("denoise apply", "Denoise your own images into --out DIR in their own format (grey, 16-bit, alpha "
                               "kept); sigma estimated per image unless given."),
    "export": ("denoise export", "Write a small inference checkpoint into --out DIR: the generator alone (no D, no "
                                 "optimizer), same format."),
}, help="Denoising GAN: train, evaluate against classical denoisers (NLM, wavelet, TV, BM3D), apply, export.")
