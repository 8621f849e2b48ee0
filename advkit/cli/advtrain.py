"""``advkit advtrain`` (library: :mod:`advkit.commands.advtrain`)."""

from advkit.cli.common import library_command

command = library_command("advtrain", "Adversarial training (Goodfellow et al. 2015) and fast FGSM-RS training "
                                      "(Wong et al. 2020): clean, FGSM and PGD error before and after.")
