"""``advkit certify`` (library: :mod:`advkit.commands.certify`)."""

from advkit.cli.common import library_command

command = library_command("certify", "Certified L2 robustness by randomized smoothing (Cohen, Rosenfeld & Kolter "
                                     "2019): CERTIFY per point, certified accuracy per radius; --denoiser for "
                                     "denoised smoothing (Salman et al. 2020); --attack-n for SmoothAdv beside it.")
